// The report's one script, allowed by its sha256 in the Content-Security-Policy (builder.py).
// Sort the ranked table by a clicked column, filter it by a typed word, open the collapsed section
// a link points to, and expand every section for printing.
(function () {
  "use strict";
  var bands = {LOW: 0, GUARDED: 1, ELEVATED: 2, HIGH: 3, SEVERE: 4};
  var table = document.getElementById("ranked-table");
  if (table) {
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, col) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var kind = th.getAttribute("data-kind");
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        var key = function (row) {
          var cell = row.cells[col];
          var text = (cell.getAttribute("data-value") || cell.textContent).trim();
          if (kind === "num") { var n = parseFloat(text); return isNaN(n) ? -Infinity : n; }
          if (kind === "band") { return bands[text]; }
          return text.toLowerCase();
        };
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
      });
    });
    var filter = document.getElementById("ranked-filter");
    var shown = document.getElementById("ranked-shown");
    if (filter) {
      filter.hidden = false;
      if (filter.closest(".filter")) { filter.closest(".filter").hidden = false; }
      filter.addEventListener("input", function () {
        var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
        var count = 0;
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          var text = row.textContent.toLowerCase();
          var match = words.every(function (w) { return text.indexOf(w) >= 0; });
          row.hidden = !match;
          if (match) { count += 1; }
        });
        if (shown) { shown.textContent = words.length ? count + " of " + table.tBodies[0].rows.length + " pairs shown" : ""; }
      });
    }
  }
  function reveal(id) {
    var node = id ? document.getElementById(id) : null;
    while (node) {
      if (node.tagName === "DETAILS") { node.open = true; }
      node = node.parentElement;
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { reveal(decodeURIComponent(link.getAttribute("href").slice(1))); }
  });
  window.addEventListener("hashchange", function () { reveal(decodeURIComponent(location.hash.slice(1))); });
  if (location.hash) { reveal(decodeURIComponent(location.hash.slice(1))); }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
})();
