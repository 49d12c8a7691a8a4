/* Progressive enhancement of a long list (a select marked data-searchable, e.g. the diseases of a 门诊慢特病
 * recognition). Without this script the select works as it is. With it, a search box above the select keeps only
 * the options whose text contains what is typed (the chosen option always stays), and says so when none does.
 */
(function () {
  "use strict";
  if (window.portalSelectSearch || !document.querySelectorAll) { return; }
  window.portalSelectSearch = true;

  function enhance(select) {
    var all = Array.prototype.slice.call(select.options).map(function (o) {
      return { value: o.value, text: o.textContent };
    });
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "-search";
    box.className = "select-search";
    box.setAttribute("autocomplete", "off");
    box.setAttribute("aria-controls", select.id);
    var label = document.createElement("label");
    label.htmlFor = box.id;
    label.className = "hint";
    label.textContent = select.getAttribute("data-search-label") || "Search";
    var none = document.createElement("p");
    none.className = "hint";
    none.id = select.id + "-none";
    none.setAttribute("role", "status");
    none.hidden = true;
    none.textContent = select.getAttribute("data-none") || "";
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(none, select.nextSibling);

    box.addEventListener("input", function () {
      var wanted = box.value.trim().toLowerCase();
      var chosen = select.value;
      select.textContent = "";
      var shown = 0;
      all.forEach(function (row) {
        var keep = !row.value || row.value === chosen || !wanted || row.text.toLowerCase().indexOf(wanted) !== -1;
        if (!keep) { return; }
        var option = document.createElement("option");
        option.value = row.value;
        option.textContent = row.text;
        select.appendChild(option);
        if (row.value) { shown += 1; }
      });
      select.value = chosen;
      none.hidden = shown > 0;
      if (wanted && shown === 1 && !chosen) {  // one match: take it
        select.value = Array.prototype.filter.call(select.options, function (o) { return o.value; })[0].value;
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-searchable]"), enhance);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
