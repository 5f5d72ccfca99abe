// Searchable pickers: any <select data-picker> becomes a Tom Select box. With
// data-picker-url it loads options from that URL (JSON list of {value, text}) as the user types.
function initPickers(root) {
  root.querySelectorAll("select[data-picker]").forEach(function (el) {
    if (el.tomselect) return;
    var url = el.dataset.pickerUrl;
    var options = { plugins: el.multiple ? ["remove_button"] : [], maxOptions: 50 };
    if (url) {
      options.valueField = "value";
      options.labelField = "text";
      options.searchField = ["text"];
      options.shouldLoad = function (query) { return query.length >= 1; };
      options.load = function (query, callback) {
        fetch(url + (url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(query), {
          headers: { "X-Requested-With": "fetch" },
        })
          .then(function (response) { return response.json(); })
          .then(function (data) { callback(data.results); })
          .catch(function () { callback(); });
      };
    }
    new TomSelect(el, options);
  });
}
document.addEventListener("DOMContentLoaded", function () { initPickers(document); });
document.addEventListener("htmx:afterSwap", function (event) { initPickers(event.target); });
