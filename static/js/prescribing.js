/* The prescription draft: drug typeahead over the catalogue and a live preview of packs and days' supply.
   Without this script the Search button does the same on the server. Text from the server is only ever
   set with textContent. */
(function () {
  "use strict";

  var form = document.getElementById("item-form");
  if (!form || !window.fetch) {
    return;
  }
  var query = form.querySelector("[name=query]");
  var results = document.getElementById("drug-results");
  var preview = document.getElementById("quantity-preview");
  var language = form.dataset.language;
  var searchTimer = null;
  var previewTimer = null;
  // The query the server already listed results for. Not query.value: on a slow machine the doctor
  // can type before this script runs, and those keystrokes fired no input event this script saw.
  var lastQuery = form.dataset.renderedQuery || "";
  var pending = null;  // the query a search is under way for
  // A dose is usually written in the unit the strength is given in.
  var DOSE_UNIT = {"mg": "mg", "µg": "µg", "g": "g", "IU": "IU", "mg/mL": "mg", "µg/h": "patch"};

  // The page's translated words live in <template> elements: their text is in .content (a document
  // fragment), not in the element itself, whose textContent is always empty.
  function text(id) {
    var template = document.getElementById(id);
    return template ? template.content.textContent.trim() : "";
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content) {
      node.textContent = content;
    }
    return node;
  }

  function option(drug) {
    var label = element("label", "list-group-item d-flex gap-2");
    var input = element("input", "form-check-input flex-shrink-0");
    input.type = "radio";
    input.name = "drug_id";
    input.value = String(drug.id);
    input.dataset.strengthUnit = drug.strength_unit;
    var body = element("span");
    var name = language === "zh" ? drug.generic_name_zh : drug.generic_name_en;
    body.appendChild(document.createTextNode(
      name + " " + drug.strength + " " + drug.strength_unit + " · " + drug.dosage_form_label + " · " + drug.pack + " "));
    var flags = drug.flags || {};
    if (!flags.online_prescribable || flags.controlled_class !== "none") {
      body.appendChild(element("span", "badge text-bg-danger", text("not-online-text")));
    }
    if (flags.cold_chain) {
      body.appendChild(element("span", "badge text-bg-primary", text("cold-chain-text")));
    }
    if (flags.weekly_only) {
      body.appendChild(element("span", "badge text-bg-warning", text("weekly-text")));
    }
    // As the server renders it: the line is always there, "—" when the catalogue gives no maximum.
    body.appendChild(element("span", "d-block small text-muted",
      text("max-dose-text") + ": " + (drug.max_daily_dose_text || "—")));
    label.appendChild(input);
    label.appendChild(body);
    return label;
  }

  // The list says which query it shows (data-query) and whether a newer one is on its way (aria-busy),
  // so neither a screen reader nor a test takes a list of an older, shorter query for the answer.
  function settle(value) {
    pending = null;
    results.dataset.query = value;
    results.removeAttribute("aria-busy");
    // The combobox is "expanded" while its list offers drugs to choose from.
    query.setAttribute("aria-expanded", results.querySelector("[name=drug_id]") ? "true" : "false");
  }

  function search() {
    var value = query.value.trim();
    if (value === lastQuery) {
      if (pending !== value) {
        settle(value);  // nothing new to ask: the list already answers this query
      }
      return;
    }
    lastQuery = value;
    if (!value) {
      settle(value);
      return;
    }
    pending = value;
    fetch(form.dataset.searchUrl + "?q=" + encodeURIComponent(value),
          {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {results: []}; })
      .then(function (data) {
        if (query.value.trim() !== value) {
          return;  // the doctor typed on; a newer search is coming
        }
        var checked = form.querySelector("[name=drug_id]:checked");
        results.textContent = "";
        if (checked) {  // keep the chosen drug at the top while searching for the next idea
          results.appendChild(checked.closest("label"));
        }
        data.results.forEach(function (drug) {
          if (!checked || checked.value !== String(drug.id)) {
            results.appendChild(option(drug));
          }
        });
        if (!results.children.length) {
          results.appendChild(element("p", "text-muted small mb-0", text("no-match-text")));
        }
        settle(value);
      })
      .catch(function () {  // offline: the Search button still works
        if (pending === value) {
          pending = null;
          results.removeAttribute("aria-busy");
        }
      });
  }

  function showPreview() {
    var chosen = form.querySelector("[name=drug_id]:checked");
    var params = new URLSearchParams();
    ["dose", "dose_unit", "frequency", "duration_days", "max_doses_per_day"].forEach(function (name) {
      params.set(name, form.elements[name].value);
    });
    if (!chosen) {
      preview.hidden = true;
      return;
    }
    params.set("drug_id", chosen.value);
    fetch(form.dataset.previewUrl + "?" + params.toString(),
          {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (data) {
        var message = data.text || data.error;
        preview.hidden = !message;
        preview.className = "alert py-2 " + (data.text ? "alert-info" : "alert-warning");
        preview.textContent = message || "";
      })
      .catch(function () { preview.hidden = true; });
  }

  query.addEventListener("input", function () {
    results.setAttribute("aria-busy", "true");
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(search, 250);
  });
  query.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {  // Enter searches; it must not add a half-filled line
      event.preventDefault();
      lastQuery = null;
      search();
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "drug_id") {
      var unit = DOSE_UNIT[event.target.dataset.strengthUnit];
      if (unit && !form.elements.dose.value) {
        form.elements.dose_unit.value = unit;
      }
    }
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(showPreview, 150);
  });
  form.addEventListener("input", function (event) {
    if (event.target !== query) {
      window.clearTimeout(previewTimer);
      previewTimer = window.setTimeout(showPreview, 300);
    }
  });
  if (query.value.trim() !== lastQuery) {
    search();  // typed before the script was ready: search what is in the box now
  }
  showPreview();
}());
