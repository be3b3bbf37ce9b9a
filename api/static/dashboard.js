/* The dashboard: reads the controls, asks the API's report routes (with the page's session
   cookie), and draws each chart with its table and its CSV link (the API's own format=csv
   answer for the same parameters). Drill-downs are drilldown.js's; cohorts and period close
   are matrices.js's. */
(function () {
  "use strict";
  const F = window.Figures;
  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const form = document.getElementById("controls");
  const status = document.getElementById("status");
  const charts = {};
  const CONTROLS = ["from", "to", "interval", "currency", "as_known_at"];
  const COLORS = { mrr: "#1f5fbf", arr: "#7a9fd9", new: "#2e8b57", expansion: "#66c28f",
                   reactivation: "#a3d9b8", contraction: "#e39b4a", churn: "#c0392b",
                   billed: "#6c7a89", collected: "#1f5fbf", refunded: "#c0392b",
                   recognized: "#2e8b57", deferred: "#8e44ad" };
  const MOVES = ["new", "expansion", "reactivation", "contraction", "churn"];
  const AGING = { "current": "#2e8b57", "1-30": "#d4ac0d", "31-60": "#e39b4a", "61-90": "#d35400",
                  "over-90": "#c0392b" };
  const NOT_DATED = ["from", "to", "interval"];  // what is owed stands at an instant, not a window

  /* The controls as query parameters, without ``omit`` (cohorts take no interval). */
  function params(omit) {
    const query = new URLSearchParams();
    CONTROLS.forEach(function (name) {
      const value = form.elements[name].value.trim();
      if (value && !(omit || []).includes(name)) query.set(name, value);
    });
    return query;
  }

  async function api(path, query) {
    const response = await fetch(query ? path + "?" + query : path,
                                 { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (response.status === 401) {
      window.location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    }
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || body.title || "HTTP " + response.status);
    return body;
  }

  function exponent() {
    const currency = form.elements.currency.value;
    return currency in config.exponents ? config.exponents[currency] : 2;
  }

  function csv(id, report, query) {
    const csvQuery = new URLSearchParams(query);
    csvQuery.set("format", "csv");
    document.getElementById(id + "-csv").href = "/reports/" + report + "?" + csvQuery;
  }

  function draw(id, type, labels, datasets, options) {
    if (charts[id]) charts[id].destroy();
    const canvas = document.getElementById(id + "-canvas");
    charts[id] = new window.Chart(canvas, {
      type: type, data: { labels: labels, datasets: datasets },
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
                               interaction: { mode: "index", intersect: false } }, options || {}),
    });
    return charts[id];
  }

  function describe(id, text) {
    document.getElementById(id + "-canvas").setAttribute("aria-label", text + " The table below has every figure.");
  }

  function fill(id, node) {
    const holder = document.getElementById(id + "-table");
    holder.replaceChildren(node);
  }

  function series(label, key, values, extra) {
    return Object.assign({ label: label, data: values, borderColor: COLORS[key],
                           backgroundColor: COLORS[key] }, extra || {});
  }

  function last(items) { return items[items.length - 1]; }

  function drawMrr(report, exp) {
    const b = report.buckets, labels = b.map(function (x) { return x.date; });
    const cur = report.currency || "";
    draw("mrr", "line", labels, [
      series("MRR", "mrr", b.map(function (x) { return F.number(x.mrr, exp); }), { yAxisID: "y" }),
      series("ARR", "arr", b.map(function (x) { return F.number(x.arr, exp); }), { yAxisID: "arr" }),
    ], { scales: { y: { position: "left", title: { display: true, text: "MRR" } },
                   arr: { position: "right", title: { display: true, text: "ARR" }, grid: { drawOnChartArea: false } } } });
    describe("mrr", "MRR and ARR by " + report.interval + ", " + b.length + " buckets; MRR at the end: " +
             (b.length ? cur + " " + F.money(last(b).mrr, exp) : "none") + ".");
    fill("mrr", F.table("MRR and ARR (" + cur + ")", ["Bucket", "MRR", "ARR"],
      b.map(function (x) { return [x.date, F.money(x.mrr, exp), F.money(x.arr, exp)]; }), [1, 2]));
    draw("subscribers", "bar", labels, [series("Paying subscribers", "mrr", b.map(function (x) { return x.subscribers; }))]);
    describe("subscribers", "Paying subscribers by " + report.interval + "; at the end: " + (b.length ? last(b).subscribers : 0) + ".");
    fill("subscribers", F.table("Paying subscribers", ["Bucket", "Subscribers"],
      b.map(function (x) { return [x.date, String(x.subscribers)]; }), [1]));
    const arpu = b.map(function (x) { return F.arpu(x.mrr, x.subscribers); });
    draw("arpu", "line", labels, [series("ARPU", "mrr", arpu.map(function (a) { return F.number(a, exp); }))]);
    describe("arpu", "ARPU by " + report.interval + "; at the end: " + (b.length && last(arpu) ? cur + " " + F.money(last(arpu), exp) : "n/a") + ".");
    fill("arpu", F.table("ARPU (" + cur + ")", ["Bucket", "MRR", "Paying subscribers", "ARPU"],
      b.map(function (x, i) { return [x.date, F.money(x.mrr, exp), String(x.subscribers), arpu[i] === null ? "n/a" : F.money(arpu[i], exp)]; }), [1, 2, 3]));
    drawBridge(report, exp);
  }

  function drawBridge(report, exp) {
    const b = report.buckets, cur = report.currency || "";
    const datasets = MOVES.map(function (kind) {
      const sign = kind === "contraction" || kind === "churn" ? -1 : 1;
      return series(kind[0].toUpperCase() + kind.slice(1), kind,
                    b.map(function (x) { return sign * F.number(x[kind], exp); }), { stack: "moves" });
    });
    const chart = draw("bridge", "bar", b.map(function (x) { return x.date; }), datasets, {
      interaction: { mode: "nearest", intersect: true },
      scales: { x: { stacked: true }, y: { stacked: true } },
      onClick: function (_event, elements) {
        if (elements.length) window.Drilldown.movements(bucket(b, elements[0].index), MOVES[elements[0].datasetIndex]);
      },
    });
    chart.canvas.dataset.buckets = String(b.length);
    describe("bridge", "MRR movements by " + report.interval + ", stacked: new, expansion and reactivation up; contraction and churn down.");
    fill("bridge", F.table("MRR movements (" + cur + "); open a figure for its movements", ["Bucket"].concat(MOVES.map(function (k) { return k[0].toUpperCase() + k.slice(1); })),
      b.map(function (x, i) {
        return [x.date].concat(MOVES.map(function (kind) {
          if (x[kind] === "0.00") return F.money(x[kind], exp);
          const open = document.createElement("button");
          open.type = "button";
          open.className = "link";
          open.textContent = F.money(x[kind], exp);
          open.setAttribute("aria-label", kind + " " + F.money(x[kind], exp) + " in " + x.date + ": open its movements");
          open.addEventListener("click", function () { window.Drilldown.movements(bucket(b, i), kind); });
          return open;
        }));
      }), [1, 2, 3, 4, 5]));
  }

  /* The days of bucket ``i``: from its date to the day before the next, or the window's end. */
  function bucket(buckets, i) {
    const to = i + 1 < buckets.length
      ? new Date(Date.parse(buckets[i + 1].date + "T00:00:00Z") - 86400000).toISOString().slice(0, 10)
      : form.elements.to.value;
    return { from: buckets[i].date, to: to };
  }

  function drawChurn(report) {
    const p = report.periods, labels = p.map(function (x) { return x.period_start; });
    draw("churn", "line", labels, [
      series("Customer churn", "churn", p.map(function (x) { return F.rateNumber(x.customer_churn_rate); })),
      series("Gross MRR churn", "contraction", p.map(function (x) { return F.rateNumber(x.gross_mrr_churn_rate); })),
      series("Net MRR churn", "mrr", p.map(function (x) { return F.rateNumber(x.net_mrr_churn_rate); })),
    ], { scales: { y: { title: { display: true, text: "%" } } } });
    describe("churn", "Customer churn and gross and net MRR churn per period, in percent.");
    fill("churn", F.table("Churn per period", ["Period", "Customers at start", "Churned", "Customer churn", "Gross MRR churn", "Net MRR churn"],
      p.map(function (x) { return [x.period_start, String(x.customers_start), String(x.churned_customers), F.percent(x.customer_churn_rate), F.percent(x.gross_mrr_churn_rate), F.percent(x.net_mrr_churn_rate)]; }), [1, 2, 3, 4, 5]));
    draw("nrr", "line", labels, [series("Net revenue retention", "recognized", p.map(function (x) { return F.rateNumber(x.net_revenue_retention); }))],
         { scales: { y: { title: { display: true, text: "%" } } } });
    describe("nrr", "Net revenue retention per period, in percent; at the end: " + (p.length ? F.percent(last(p).net_revenue_retention) : "n/a") + ".");
    fill("nrr", F.table("Net revenue retention", ["Period", "NRR"],
      p.map(function (x) { return [x.period_start, F.percent(x.net_revenue_retention)]; }), [1]));
  }

  function drawRevenue(report, exp) {
    const b = report.buckets, cur = report.currency || "";
    const cash = ["billed", "collected", "refunded", "recognized"];
    const datasets = cash.map(function (k) { return series(k[0].toUpperCase() + k.slice(1), k, b.map(function (x) { return F.number(x[k], exp); })); });
    datasets.push(series("Deferred", "deferred", b.map(function (x) { return F.number(x.deferred, exp); }), { type: "line" }));
    draw("revenue", "bar", b.map(function (x) { return x.date; }), datasets);
    describe("revenue", "Revenue by " + report.interval + ": billed, collected, refunded and recognized as bars, deferred at each bucket's end as a line.");
    fill("revenue", F.table("Revenue (" + cur + ")", ["Bucket", "Billed", "Collected", "Refunded", "Net", "Recognized", "Deferred"],
      b.map(function (x) { return [x.date].concat(["billed", "collected", "refunded", "net", "recognized", "deferred"].map(function (k) { return F.money(x[k], exp); })); }), [1, 2, 3, 4, 5, 6]));
  }

  /* The aging of the dashboard's currency; a book with nothing owed when the report has none
     (a ledger with no currency yet). */
  function owedBook(report) {
    const currency = form.elements.currency.value;
    return report.currencies.find(function (c) { return c.currency === currency; }) ||
      { currency: currency, outstanding: 0, invoices: 0, buckets: [] };
  }

  function drawReceivables(report, exp) {
    const book = owedBook(report), b = book.buckets, cur = book.currency;
    const open = function (i) { window.Drilldown.owed(b[i].bucket); };
    document.getElementById("receivables-empty").hidden = book.invoices > 0;
    document.getElementById("receivables-chart").hidden = book.invoices === 0;
    draw("receivables", "bar", b.map(function (x) { return x.bucket; }), [
      series("Outstanding", "churn", b.map(function (x) { return F.number(x.outstanding, exp); }),
             { backgroundColor: b.map(function (x) { return AGING[x.bucket]; }) })],
      { plugins: { legend: { display: false } },
        onClick: function (_event, elements) { if (elements.length && b[elements[0].index].invoices) open(elements[0].index); } });
    describe("receivables", "Receivables by days since issue, as of " + report.as_of + ": " +
             (book.invoices ? cur + " " + F.money(book.outstanding, exp) + " owed on " + book.invoices + " invoices." : "nothing owed."));
    fill("receivables", F.table("Receivables (" + cur + ") as of " + report.as_of + "; open a figure for its invoices",
      ["Days since issue", "Outstanding", "Invoices"], b.map(function (x, i) {
        if (!x.invoices) return [x.bucket, F.money(x.outstanding, exp), "0"];
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.textContent = F.money(x.outstanding, exp);
        button.setAttribute("aria-label", x.bucket + ": " + cur + " " + F.money(x.outstanding, exp) + " owed: open its invoices");
        button.addEventListener("click", function () { open(i); });
        return [x.bucket, button, String(x.invoices)];
      }), [1, 2]));
  }

  async function load() {
    const query = params(), exp = exponent(), owedQuery = params(NOT_DATED);
    ["mrr", "subscribers", "bridge", "arpu"].forEach(function (id) { csv(id, "mrr", query); });
    ["churn", "nrr"].forEach(function (id) { csv(id, "churn", query); });
    csv("revenue", "revenue", query);
    csv("receivables", "receivables", owedQuery);
    status.textContent = "Loading the reports…";
    document.body.dataset.loaded = "";
    try {
      const [mrr, churn, revenue, receivables] = await Promise.all([
        api("/reports/mrr", query), api("/reports/churn", query), api("/reports/revenue", query),
        api("/reports/receivables", owedQuery)]);
      drawMrr(mrr, exp);
      drawChurn(churn);
      drawRevenue(revenue, exp);
      drawReceivables(receivables, exp);
      status.textContent = "Figures as of " + mrr.as_of + (mrr.as_known_at ? ", as known at " + mrr.as_known_at : "") +
        " (log position " + mrr.position + ", " + mrr.metrics_version + ", " + revenue.metrics_version + ").";
      document.body.dataset.loaded = "reports";
      performance.mark("dashboard:reports");  // bench/dashboard.py reads it
    } catch (error) {
      status.textContent = "The reports could not be shown: " + error.message;
      document.body.dataset.loaded = "error";
    }
    await window.Matrices.load(params(["interval"]), exp);
  }

  window.Dashboard = { api: api, params: params, exponent: exponent, notDated: NOT_DATED };
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    history.replaceState(null, "", "/?" + params());
    load();
  });
  load();
})();
