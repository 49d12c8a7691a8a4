/* Progressive enhancement of the destination picker (templates/remote_care/_places.html).
 *
 * Without this script the three selects work as a plain form: "Show the places to choose" reloads the page with the
 * lists the chosen province and city offer. With it, the city and county lists follow the choice at once (no reload,
 * nothing typed is lost), and a search box finds any division by name, full pinyin or pinyin initials
 * (广州, guangzhou, gz) and fills the three lists. The data, with pinyin computed on the server by pypinyin, comes
 * from the fieldset's data-url. Any browser lacking what this needs keeps the plain form.
 */
(function () {
  "use strict";
  var box = document.getElementById("places");
  if (!box || !window.fetch || !document.querySelector || !Array.prototype.filter) { return; }
  var province = document.getElementById("province");
  var city = document.getElementById("city");
  var county = document.getElementById("county");
  if (!province || !city || !county) { return; }
  var provinceOnly = (box.getAttribute("data-province-only") || "").split(",");
  var MAX_RESULTS = 12;

  function fieldOf(select) { return select.closest(".field"); }

  function fill(select, rows, chosen) {
    var blank = select.options.length ? select.options[0].textContent : "—";
    select.textContent = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = blank;
    select.appendChild(first);
    rows.forEach(function (row) {
      var option = document.createElement("option");
      option.value = row[0];
      option.textContent = row[1];
      option.lang = "zh-Hans";  // the divisions' official names, Chinese on every page (as the server marks them)
      select.appendChild(option);
    });
    select.value = chosen || "";
    if (select.value !== (chosen || "")) { select.value = ""; }
  }

  fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
    .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
    .then(start)
    .catch(function () { /* the plain form still works */ });

  function start(data) {
    var rows = data.divisions, byCode = {}, children = {};
    rows.forEach(function (row) {
      byCode[row[0]] = row;
      (children[row[2]] = children[row[2]] || []).push(row);
    });

    function showCities(chosenCity, chosenCounty) {
      var list = children[province.value] || [];
      fill(city, province.value ? list : [], chosenCity);
      fieldOf(city).hidden = !province.value || list.length === 0;
      document.getElementById("province-level").hidden = provinceOnly.indexOf(province.value) < 0;
      showCounties(chosenCounty);
    }

    function showCounties(chosenCounty) {
      var list = (city.value && children[city.value]) || [];
      fill(county, list, chosenCounty);
      fieldOf(county).hidden = list.length === 0 || provinceOnly.indexOf(province.value) >= 0;
    }

    province.addEventListener("change", function () { showCities("", ""); });
    city.addEventListener("change", function () { showCounties(""); });
    document.getElementById("update-places").hidden = true;
    showCities(city.value, county.value);

    var search = box.querySelector(".place-search");
    var query = document.getElementById("place-query");
    var results = document.getElementById("place-results");
    search.hidden = false;

    function fullName(row) {
      var parts = [];
      for (var at = row; at; at = byCode[at[2]]) { parts.unshift(at[1]); }
      return parts.join(" ");
    }

    function matches(text) {
      var q = text.trim().toLowerCase().replace(/\s+/g, "");
      if (!q) { return []; }
      var latin = /^[a-z]+$/.test(q);
      var scored = [];
      rows.forEach(function (row) {
        var score = -1;
        if (latin) {
          if (row[3] === q || row[4] === q) { score = 0; }
          else if (row[3].indexOf(q) === 0 || row[4].indexOf(q) === 0) { score = 1; }
          else if (q.length > 1 && row[4].indexOf(q) > 0) { score = 3; }
        } else if (row[1] === q) { score = 0; }
        else if (row[1].indexOf(q) === 0) { score = 1; }
        else if (row[1].indexOf(q) > 0) { score = 2; }
        if (score >= 0) { scored.push([score, row[0].length && row[2] ? (byCode[row[2]][2] ? 2 : 1) : 0, row]); }
      });
      scored.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1] || (a[2][0] < b[2][0] ? -1 : 1); });
      return scored.slice(0, MAX_RESULTS).map(function (item) { return item[2]; });
    }

    function choose(row) {
      var chain = [];
      for (var at = row; at; at = byCode[at[2]]) { chain.unshift(at[0]); }
      province.value = chain[0];
      showCities(chain[1] || "", chain[2] || "");
      results.textContent = "";
      query.value = fullName(row);
      (chain[2] ? county : chain[1] ? city : province).focus();
    }

    query.addEventListener("input", function () {
      results.textContent = "";
      var found = matches(query.value);
      found.forEach(function (row) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "place-result";
        button.setAttribute("data-code", row[0]);
        button.textContent = fullName(row);
        button.lang = "zh-Hans";
        button.addEventListener("click", function () { choose(row); });
        item.appendChild(button);
        results.appendChild(item);
      });
      if (query.value.trim() && !found.length) {
        var none = document.createElement("li");
        none.className = "hint";
        none.textContent = search.getAttribute("data-none") || "—";
        results.appendChild(none);
      }
    });
    query.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {  /* Enter picks the first result instead of submitting the form */
        event.preventDefault();
        var first = results.querySelector("button");
        if (first) { first.click(); }
      }
    });
  }
}());
