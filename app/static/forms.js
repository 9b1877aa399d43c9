/* Progressive enhancements of record forms; every page works without this file. */
(function () {
  "use strict";

  /* Back, then Save again: the browser reloads the form page (a fresh form token) but puts back what was
     typed. Reuse the token the form was submitted with, so the server finds the record it already made. */
  var input = document.querySelector("form.record-form input[name=form_token]");
  if (input && input.value && window.sessionStorage) {
    var key = "form_token:" + location.pathname + location.search;
    var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    try {
      var used = sessionStorage.getItem(key);
      if (used && nav && nav.type === "back_forward") input.value = used;
      input.form.addEventListener("submit", function () {
        try { sessionStorage.setItem(key, input.value); } catch (e) { /* private mode: the server still checks */ }
      });
    } catch (e) { /* storage refused: the server still checks */ }
  }

  /* A select marked data-autosubmit submits its form when changed (the form also has a button for no-JS). */
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) select.form.submit(); });
  });

  /* Type-to-search in a select: an input[data-filter-select=ID] hides the options that do not contain
     the typed text (the server filters the same way when the form is submitted without JS). */
  document.querySelectorAll("input[data-filter-select]").forEach(function (box) {
    var select = document.getElementById(box.getAttribute("data-filter-select"));
    if (!select) return;
    box.addEventListener("input", function () {
      var text = box.value.trim();
      select.querySelectorAll("option").forEach(function (option) {
        option.hidden = !!option.value && text !== "" && option.textContent.indexOf(text) < 0;
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !Array.prototype.some.call(group.querySelectorAll("option"), function (o) { return !o.hidden; });
      });
    });
  });

  /* "All received" ticks every material row at once. */
  document.querySelectorAll("input[data-tick-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll(all.getAttribute("data-tick-all")).forEach(function (box) {
        var row = box.closest("tr"), name = row && row.querySelector("input[name$='-name']");
        if (!name || name.value.trim()) box.checked = all.checked;  // blank rows stay blank
      });
    });
  });
})();

/* Print views: the toolbar's buttons (no inline handlers: the Content-Security-Policy allows no inline script).
   "打印" opens the browser's print dialog; "返回" goes back in history, or follows its link without JS. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  /* A button with data-confirm asks before it submits. */
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  /* A booking page remembers its code on this phone; the booking form offers it back next time. */
  try {
    document.querySelectorAll("[data-remember-booking]").forEach(function (mark) {
      localStorage.setItem(mark.getAttribute("data-remember-booking"),
                           JSON.stringify({code: mark.getAttribute("data-code"), url: location.pathname}));
    });
    document.querySelectorAll("[data-last-booking]").forEach(function (p) {
      var last = JSON.parse(localStorage.getItem(p.getAttribute("data-last-booking")) || "null");
      if (!last || !last.code || !last.url) return;
      p.textContent = p.getAttribute("data-label") + " " + last.code + " ";
      var a = document.createElement("a"); a.href = last.url; a.textContent = p.getAttribute("data-open");
      p.appendChild(a); p.hidden = false;
    });
  } catch (e) { /* no storage: nothing to remember */ }
  document.querySelectorAll("a[data-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
    });
  });
})();
