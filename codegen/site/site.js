// Doc site behaviour: search over window.KOSMO_SEARCH_INDEX (functions and guides, told apart by
// `kind`), copy buttons, the phone sidebar.
// Plain script: no modules and no network requests, so pages work from file:// too.
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";

  // Every word of the query must match somewhere; each scores where it matches best, as
  // docs.search does: a whole word of the name 6 (a plural also matches its singular), the start
  // of one 5, anywhere in it 4, the title or summary 3, the family 2, the description or a
  // parameter's name 1. Higher totals rank first, then shorter names, then index order. Guides
  // have a slug for a name and no family, description or parameters.
  function forms(word) {
    var out = [word];
    if (word.length > 3 && /ies$/.test(word)) out.push(word.slice(0, -3) + "y");
    if (word.length > 3 && /s$/.test(word)) out.push(word.slice(0, -1));
    return out;
  }

  function wordScore(lower, word) {
    var best = 0;
    var parts = lower.name.split("_");
    forms(word).forEach(function (form) {
      for (var i = 0; i < parts.length; i++) {
        if (parts[i] === form || parts[i] === form + "s") best = Math.max(best, 6);
        else if (parts[i].indexOf(form) === 0) best = Math.max(best, 5);
      }
      if (lower.name.indexOf(form) >= 0) best = Math.max(best, 4);
      if (lower.title.indexOf(form) >= 0 || lower.summary.indexOf(form) >= 0) best = Math.max(best, 3);
      else if (lower.family.indexOf(form) >= 0) best = Math.max(best, 2);
      else if (lower.details.indexOf(form) >= 0) best = Math.max(best, 1);
    });
    return best;
  }

  // Lower-cased fields, computed once per entry.
  var lowered = [];
  function lowerOf(index, i) {
    if (!lowered[i]) {
      var entry = index[i];
      lowered[i] = {
        name: entry.name.toLowerCase(),
        title: entry.title.toLowerCase(),
        summary: entry.summary.toLowerCase(),
        family: (entry.family || "").toLowerCase(),
        details: ((entry.description || "") + " " + (entry.params || "")).toLowerCase()
      };
    }
    return lowered[i];
  }

  function search(text) {
    var words = text.trim().toLowerCase().split(/\s+/).filter(function (w) { return w; });
    var index = window.KOSMO_SEARCH_INDEX || [];
    if (!words.length) return [];
    var hits = [];
    for (var i = 0; i < index.length; i++) {
      var lower = lowerOf(index, i);
      var total = 0;
      for (var w = 0; w < words.length; w++) {
        var s = wordScore(lower, words[w]);
        if (!s) { total = 0; break; }
        total += s;
      }
      if (total) hits.push({ entry: index[i], score: total, order: i });
    }
    hits.sort(function (a, b) {
      if (a.score !== b.score) return b.score - a.score;
      if (a.entry.name.length !== b.entry.name.length) return a.entry.name.length - b.entry.name.length;
      return a.order - b.order;
    });
    return hits.map(function (h) { return h.entry; });
  }

  function resultLink(entry) {
    var link = document.createElement("a");
    link.href = root + entry.url;
    link.className = "search-result";
    var isGuide = entry.kind === "guide";
    var name = document.createElement("span");
    name.className = isGuide ? "result-name result-guide" : "result-name";
    name.textContent = isGuide ? entry.title : entry.provider + "." + entry.name;
    link.appendChild(name);
    var badge = document.createElement("span");
    badge.className = "badge badge-" + (isGuide ? "guide" : entry.operation);
    badge.textContent = isGuide ? "guide" : entry.operation;
    link.appendChild(document.createTextNode(" "));
    link.appendChild(badge);
    if (entry.destructive) {
      var destructive = document.createElement("span");
      destructive.className = "badge badge-destructive";
      destructive.textContent = "destructive";
      link.appendChild(document.createTextNode(" "));
      link.appendChild(destructive);
    }
    var summary = document.createElement("span");
    summary.className = "result-summary";
    summary.textContent = entry.summary;
    link.appendChild(summary);
    return link;
  }

  function setUpSearch() {
    var input = document.getElementById("search-input");
    var popup = document.getElementById("search-popup");
    if (!input || !popup) return;
    function update() {
      var hits = search(input.value).slice(0, 12);
      popup.textContent = "";
      if (!input.value.trim()) { popup.hidden = true; return; }
      if (hits.length === 0) {
        var empty = document.createElement("p");
        empty.className = "search-empty";
        empty.textContent = "Nothing matches.";
        popup.appendChild(empty);
      }
      hits.forEach(function (entry) { popup.appendChild(resultLink(entry)); });
      popup.hidden = false;
    }
    input.addEventListener("input", update);
    input.addEventListener("focus", update);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { popup.hidden = true; input.blur(); }
      if (event.key === "ArrowDown") {
        var first = popup.querySelector("a");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
    popup.addEventListener("keydown", function (event) {
      var current = document.activeElement;
      if (event.key === "ArrowDown" && current.nextElementSibling) { event.preventDefault(); current.nextElementSibling.focus(); }
      if (event.key === "ArrowUp") {
        event.preventDefault();
        if (current.previousElementSibling) current.previousElementSibling.focus(); else input.focus();
      }
      if (event.key === "Escape") { popup.hidden = true; input.focus(); }
    });
    document.addEventListener("click", function (event) {
      if (!popup.contains(event.target) && event.target !== input) popup.hidden = true;
    });

    // index.html?q=... renders the results in the page (the search form submits here).
    var section = document.getElementById("search-results");
    var list = document.getElementById("search-results-list");
    var query = new URLSearchParams(window.location.search).get("q");
    if (section && list && query) {
      input.value = query;
      var hits = search(query);
      var title = document.getElementById("search-results-title");
      if (title) title.textContent = hits.length + (hits.length === 1 ? " result" : " results") + " for “" + query + "”";
      hits.forEach(function (entry) {
        var item = document.createElement("li");
        item.appendChild(resultLink(entry));
        list.appendChild(item);
      });
      section.hidden = false;
    }
  }

  function copyText(text, done) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, done); });
    } else {
      fallbackCopy(text, done);
    }
  }

  // Older browsers and file:// pages: select the text in a hidden textarea and copy that.
  function fallbackCopy(text, done) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
    done();
  }

  function setUpCopyButtons() {
    var blocks = document.querySelectorAll("pre > code");
    Array.prototype.forEach.call(blocks, function (code) {
      var pre = code.parentNode;
      var wrapper = document.createElement("div");
      wrapper.className = "code-block";
      pre.parentNode.insertBefore(wrapper, pre);
      wrapper.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code to clipboard");
      button.addEventListener("click", function () {
        copyText(code.textContent, function () {
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = "Copy"; }, 1500);
        });
      });
      wrapper.appendChild(button);
    });
  }

  function setUpSidebar() {
    var toggle = document.querySelector(".sidebar-toggle");
    var sidebar = document.querySelector(".sidebar");
    if (!toggle || !sidebar) return;
    toggle.addEventListener("click", function () {
      var open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function start() {
    setUpSearch();
    setUpCopyButtons();
    setUpSidebar();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
