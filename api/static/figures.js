/* Figures as people read them, from the API's exact decimal strings: money in major units,
   rates as percentages, ARPU; rounded half-even with BigInt, never through a float (a
   chart's axis alone takes Number). Tables are built with the DOM, never from HTML text. */
(function () {
  "use strict";

  function parse(text) {
    const negative = text.startsWith("-");
    const [whole, fraction = ""] = (negative ? text.slice(1) : text).split(".");
    return { n: BigInt(whole + fraction) * (negative ? -1n : 1n), scale: fraction.length };
  }

  function halfEven(n, d) {
    let q = n / d;
    const r = n % d;
    const twice = 2n * (r < 0n ? -r : r);
    if (twice > d || (twice === d && q % 2n !== 0n)) q += n < 0n ? -1n : 1n;
    return q;
  }

  /* The decimal ``text`` as an integer scaled by 10^places, rounded half-even. */
  function scaled(text, places) {
    const { n, scale } = parse(String(text));
    if (scale <= places) return n * 10n ** BigInt(places - scale);
    return halfEven(n, 10n ** BigInt(scale - places));
  }

  function show(value, places, grouped) {
    const negative = value < 0n;
    const digits = (negative ? -value : value).toString().padStart(places + 1, "0");
    let whole = digits.slice(0, digits.length - places);
    if (grouped) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (negative ? "-" : "") + whole + (places ? "." + digits.slice(digits.length - places) : "");
  }

  /* Minor units (an integer or a decimal string) as major units: "108126.67", 2 -> "1,081.27". */
  function money(minor, exponent) {
    return show(scaled(String(minor), 0), exponent, true);
  }

  /* A rate ("0.041667") as a percentage ("4.17 %"); null (a zero denominator) as "n/a". */
  function percent(rate) {
    return rate === null || rate === undefined ? "n/a" : show(scaled(rate, 4), 2, true) + " %";
  }

  /* MRR over paying subscribers, in minor units as a decimal string; null without any. */
  function arpu(mrr, subscribers) {
    if (!subscribers) return null;
    return show(halfEven(scaled(mrr, 2), BigInt(subscribers)), 2, false);
  }

  /* For a chart's axis only. */
  function number(minor, exponent) {
    return minor === null || minor === undefined ? null : Number(minor) / 10 ** exponent;
  }

  function rateNumber(rate) {
    return rate === null || rate === undefined ? null : Number(rate) * 100;
  }

  /* A <table> with a caption, header cells and rows; a cell is text or a node, and a
     column listed in ``numeric`` is right-aligned. */
  function table(caption, headers, rows, numeric) {
    const element = document.createElement("table");
    element.createCaption().textContent = caption;
    const head = element.createTHead().insertRow();
    headers.forEach(function (text, i) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      if (numeric && numeric.includes(i)) th.className = "num";
      head.appendChild(th);
    });
    const body = element.createTBody();
    rows.forEach(function (row) {
      const tr = body.insertRow();
      row.forEach(function (cell, i) {
        const td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) td.scope = "row";
        if (numeric && numeric.includes(i)) td.className = "num";
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell;
        tr.appendChild(td);
      });
    });
    return element;
  }

  window.Figures = { money: money, percent: percent, arpu: arpu, number: number,
                     rateNumber: rateNumber, table: table };
})();
