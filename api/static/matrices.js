/* The two tables that are not charts: the cohort matrix (GET /reports/cohorts, from the mrr
   model's cohort totals; asked after the charts, which matter more) and the closed periods with their
   restatements (GET /reports/restatements). */
(function () {
  "use strict";
  const F = window.Figures;
  let cohorts = null;

  function heat(cell, rate) {
    if (rate === null) return;
    const share = Math.max(0, Math.min(1, Number(rate)));
    cell.style.backgroundColor = "rgba(31, 95, 191, " + (0.08 + 0.5 * share).toFixed(2) + ")";
  }

  function drawCohorts(exp) {
    const holder = document.getElementById("cohorts-table");
    if (!cohorts) return;
    const measure = document.getElementById("cohort-measure").value;
    const width = Math.max(0, ...cohorts.cohorts.map(function (c) { return c.months.length; }));
    const headers = ["Cohort", "Subscribers", "Starting MRR"];
    for (let i = 0; i < width; i++) headers.push("Month " + i);
    const rows = cohorts.cohorts.map(function (c) {
      return [c.cohort.slice(0, 7), String(c.subscribers), F.money(c.mrr, exp)].concat(
        c.months.map(function (m) { return F.percent(m[measure]); }));
    });
    const label = measure === "mrr_retention" ? "MRR retained" : "Subscribers retained";
    const table = F.table(label + " by signup month (" + (cohorts.currency || "") + ")", headers, rows,
                          headers.map(function (_h, i) { return i; }).slice(1));
    cohorts.cohorts.forEach(function (c, r) {
      c.months.forEach(function (m, i) { heat(table.tBodies[0].rows[r].cells[3 + i], m[measure]); });
    });
    holder.replaceChildren(table);
  }

  function changes(items) {
    const rows = [];
    items.forEach(function (item) {
      item.changed.forEach(function (c) {
        rows.push([item.period, c.currency, c.report, c.field, String(c.at_close), String(c.now)]);
      });
    });
    return rows;
  }

  function drawPeriods(answer, exp) {
    const holder = document.getElementById("periods-table");
    const items = answer.items;
    if (!items.length) {
      holder.replaceChildren(document.createTextNode("No month is closed yet."));
      return;
    }
    const closed = F.table("Closed months", ["Month", "Closed at", "Log position", "MRR at close", "MRR now", "Figures changed since", "Events that changed them"],
      items.map(function (item) {
        const currency = Object.keys(item.at_close)[0];
        const mrr = function (figures) { return figures[currency] ? currency + " " + F.money(figures[currency].mrr.mrr, exp) : "n/a"; };
        return [item.period, item.closed_at, String(item.closed_position), mrr(item.at_close), mrr(item.now),
                String(item.changed.length), String(item.caused_by.length)];
      }), [2, 5, 6]);
    const restated = changes(items);
    const parts = [closed];
    parts.push(restated.length
      ? F.table("Restatements since the close (figures as the reports write them)", ["Month", "Currency", "Report", "Figure", "At close", "Now"], restated, [4, 5])
      : document.createTextNode("No figure of a closed month has changed since its close."));
    holder.replaceChildren.apply(holder, parts);
  }

  async function load(query, exp) {
    const D = window.Dashboard;
    const csvQuery = new URLSearchParams(query);
    csvQuery.set("format", "csv");
    document.getElementById("cohorts-csv").href = "/reports/cohorts?" + csvQuery;
    try {
      drawPeriods(await D.api("/reports/restatements"), exp);
    } catch (error) {
      document.getElementById("periods-table").textContent = "The closed months could not be shown: " + error.message;
    }
    try {
      cohorts = await D.api("/reports/cohorts", query);
      drawCohorts(exp);
    } catch (error) {
      document.getElementById("cohorts-table").textContent = "The cohorts could not be shown: " + error.message;
    }
    document.body.dataset.cohorts = "loaded";
    performance.mark("dashboard:cohorts");
  }

  document.getElementById("cohort-measure").addEventListener("change", function () {
    drawCohorts(window.Dashboard.exponent());
  });
  window.Matrices = { load: load };
})();
