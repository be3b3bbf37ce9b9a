/* Drill-down: a bar of the MRR bridge opens its movements (GET /reports/mrr/movements), a bar
   of the receivables its invoices owed (GET /reports/receivables/invoices), and a movement or
   an invoice owed opens its subscriber's timeline: every event (GET /subscribers/{id}/history),
   with the invoice and the charge it caused (GET /subscribers/{id}/invoices). */
(function () {
  "use strict";
  const F = window.Figures;
  const PAGE = 1000;

  function show(sectionId, headingText) {
    const section = document.getElementById(sectionId);
    section.hidden = false;
    const heading = document.getElementById(sectionId + "-title");
    heading.textContent = headingText;
    heading.focus();
    section.scrollIntoView({ block: "start" });
  }

  function link(text, href, label) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    if (label) a.setAttribute("aria-label", label);
    return a;
  }

  async function movements(bucket, kind) {
    const D = window.Dashboard, exp = D.exponent();
    const query = D.params(["interval"]);
    query.set("from", bucket.from);
    query.set("to", bucket.to);
    query.set("kind", kind);
    query.set("limit", String(PAGE));
    document.getElementById("movements-api").href = "/reports/mrr/movements?" + query;
    const holder = document.getElementById("movements-table");
    show("movements", "Movements: " + kind + " from " + bucket.from + " to " + bucket.to);
    holder.replaceChildren(document.createTextNode("Loading…"));
    try {
      const page = await D.api("/reports/mrr/movements", query);
      const rows = page.items.map(function (m) {
        return [m.effective_at, m.kind, F.money(m.amount, exp), F.money(m.mrr_before, exp), F.money(m.mrr_after, exp),
                timelineButton(m.subscriber_id, m.event_ids)];
      });
      const caption = page.items.length + " movement" + (page.items.length === 1 ? "" : "s") +
        (page.next_cursor ? " (the first " + PAGE + ")" : "");
      holder.replaceChildren(F.table(caption, ["Effective", "Kind", "Amount", "MRR before", "MRR after", "Subscriber"], rows, [2, 3, 4]));
    } catch (error) {
      holder.replaceChildren(document.createTextNode("The movements could not be shown: " + error.message));
    }
  }

  function timelineButton(subscriberId, causes) {
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = subscriberId.slice(0, 8) + "…";
    open.setAttribute("aria-label", "Open the timeline of subscriber " + subscriberId);
    open.addEventListener("click", function () { timeline(subscriberId, causes); });
    return open;
  }

  async function owed(bucket) {
    const D = window.Dashboard, exp = D.exponent();
    const query = D.params(D.notDated);
    query.set("bucket", bucket);
    query.set("limit", String(PAGE));
    document.getElementById("owed-api").href = "/reports/receivables/invoices?" + query;
    const holder = document.getElementById("owed-table");
    show("owed", "Invoices owed: " + bucket + (bucket === "current" ? "" : " days since issue"));
    holder.replaceChildren(document.createTextNode("Loading…"));
    try {
      const page = await D.api("/reports/receivables/invoices", query);
      const rows = page.items.map(function (i) {
        return [link(i.number, "/invoices/" + i.invoice_id + ".html", "Invoice " + i.number + " as a document"),
                timelineButton(i.subscriber_id), i.issued_at.slice(0, 10), String(i.days_overdue), F.money(i.outstanding, exp)];
      });
      const caption = page.items.length + " invoice" + (page.items.length === 1 ? "" : "s") + " owed in " +
        query.get("currency") + " as of " + page.as_of + (page.next_cursor ? " (the first " + PAGE + ")" : "");
      holder.replaceChildren(F.table(caption, ["Invoice", "Subscriber", "Issued", "Days overdue", "Outstanding"], rows, [3, 4]));
    } catch (error) {
      holder.replaceChildren(document.createTextNode("The invoices could not be shown: " + error.message));
    }
  }

  async function all(path) {
    const items = [];
    let cursor = null;
    do {
      const query = new URLSearchParams({ limit: String(PAGE) });
      if (cursor) query.set("cursor", cursor);
      const page = await window.Dashboard.api(path, query);
      items.push.apply(items, page.items);
      cursor = page.next_cursor;
    } while (cursor && items.length < 20 * PAGE);
    return items;
  }

  function caused(event, invoices, exp) {
    const parts = [];
    const data = event.data || {};
    const invoice = invoices.byId[data.invoice_id] || invoices.byCharge[data.charge_id];
    if (invoice) {
      parts.push(document.createTextNode(" · invoice "));
      parts.push(link(invoice.number, "/invoices/" + invoice.invoice_id + ".html", "Invoice " + invoice.number + " as a document"));
      parts.push(document.createTextNode(" (" + invoice.status + ", " + invoice.currency + " " + F.money(invoice.total, exp) + ")"));
    }
    if (data.charge_id) {
      parts.push(document.createTextNode(" · charge "));
      parts.push(link(data.charge_id.slice(0, 8) + "…", "/charges/" + data.charge_id, "Charge " + data.charge_id));
    }
    return parts;
  }

  async function timeline(subscriberId, causes) {
    const D = window.Dashboard, exp = D.exponent();
    const body = document.getElementById("timeline-body");
    show("timeline", "Timeline of subscriber " + subscriberId);
    body.replaceChildren(document.createTextNode("Loading…"));
    try {
      const [subscriber, events, invoiceList] = await Promise.all([
        D.api("/subscribers/" + subscriberId), all("/subscribers/" + subscriberId + "/history"),
        all("/subscribers/" + subscriberId + "/invoices")]);
      const invoices = { byId: {}, byCharge: {} };
      invoiceList.forEach(function (i) { invoices.byId[i.invoice_id] = i; if (i.charge_id) invoices.byCharge[i.charge_id] = i; });
      const who = document.createElement("p");
      who.textContent = [subscriber.name, subscriber.email].filter(Boolean).join(" · ") +
        " — " + events.length + " events, " + invoiceList.length + " invoices.";
      const list = document.createElement("ol");
      list.className = "timeline";
      list.setAttribute("aria-label", "Events in the ledger's order");
      events.forEach(function (event) {
        const item = document.createElement("li");
        const when = document.createElement("span");
        when.className = "when";
        when.textContent = event.effective_at + " ";
        const type = document.createElement(causes && causes.includes(event.event_id) ? "strong" : "span");
        type.textContent = event.type + (type.tagName === "STRONG" ? " (caused the movement)" : "");
        item.replaceChildren.apply(item, [when, type].concat(caused(event, invoices, exp)));
        list.appendChild(item);
      });
      body.replaceChildren(who, list);
    } catch (error) {
      body.replaceChildren(document.createTextNode("The timeline could not be shown: " + error.message));
    }
  }

  window.Drilldown = { movements: movements, owed: owed, timeline: timeline };
})();
