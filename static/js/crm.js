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

// The command palette (templates/includes/command_palette.html): Ctrl+K, Cmd+K or "/" opens it;
// typing asks crm:search_suggest for options; arrow keys move the active option, Enter opens it
// (or, with none active, the full results page). The combobox pattern keeps focus in the input
// and points aria-activedescendant at the active option.
(function () {
  var dialog, input, listbox, status, form, url;
  var active = -1, timer = null, controller = null, requested = null;

  function options() { return listbox.querySelectorAll("[role=option]"); }

  function setActive(index) {
    var all = options();
    if (active >= 0 && all[active]) all[active].setAttribute("aria-selected", "false");
    active = all.length ? (index + all.length) % all.length : -1;
    if (active < 0) { input.removeAttribute("aria-activedescendant"); return; }
    all[active].setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", all[active].id);
    all[active].scrollIntoView({ block: "nearest" });
  }

  function show(html, query) {
    listbox.innerHTML = html;
    listbox.dataset.query = query;
    var count = options().length;
    input.setAttribute("aria-expanded", count ? "true" : "false");
    active = -1;
    setActive(0);
    status.textContent = count ? count + (count === 1 ? " suggestion" : " suggestions") : "No suggestions";
  }

  function load() {
    var query = input.value.trim();
    if (query === requested) return;
    requested = query;
    if (controller) controller.abort();
    controller = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(query), {
      headers: { "X-Requested-With": "fetch" }, signal: controller.signal,
    })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (query === input.value.trim()) show(html, query); })
      .catch(function () {});
  }

  function follow(option) { window.location.assign(option.dataset.url); }

  function open() {
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  }

  function typingInAField(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  document.addEventListener("DOMContentLoaded", function () {
    dialog = document.getElementById("commandPalette");
    if (!dialog) return;
    input = document.getElementById("commandPaletteInput");
    listbox = document.getElementById("commandPaletteOptions");
    status = document.getElementById("commandPaletteStatus");
    form = input.form;
    url = dialog.dataset.suggestUrl;

    dialog.addEventListener("shown.bs.modal", function () { input.focus(); input.select(); load(); });
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(load, 80);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        setActive(active + (event.key === "ArrowDown" ? 1 : -1));
      } else if (event.key === "Enter") {
        var option = options()[active];
        // Options shown for an older query would open the wrong record: go to the results.
        if (option && listbox.dataset.query === input.value.trim()) {
          event.preventDefault();
          follow(option);
        }
      }
    });
    listbox.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) follow(option);
    });
    listbox.addEventListener("mousemove", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) setActive(Array.prototype.indexOf.call(options(), option));
    });
    form.addEventListener("submit", function () { clearTimeout(timer); });

    document.addEventListener("keydown", function (event) {
      var shortcut = (event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k";
      var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !typingInAField(event.target);
      if (shortcut || slash) {
        event.preventDefault();
        open();
      }
    });
  });
})();
