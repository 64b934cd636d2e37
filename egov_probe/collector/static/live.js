// The live page: server-sent events name the unit that changed; its row is fetched and
// swapped in place (no reload). Plain JavaScript, no framework.
//
// The stream begins with the store's version: when it is not the one the page shows (an
// upload between drawing the page and the stream opening, or while the stream was broken),
// every row is fetched again.
(function () {
  "use strict";
  var page = document.getElementById("page");
  if (!page) { return; }
  var lang = page.getAttribute("data-lang") || "vi";
  var shown = page.getAttribute("data-version");
  var status = document.getElementById("live-status");
  var pending = {};
  var everything = false;
  var timer = null;
  var busy = false;

  function show(on) {
    status.textContent = status.getAttribute(on ? "data-on" : "data-off");
    status.className = on ? "on" : "off";
  }

  function get(path) {
    return fetch(path + (path.indexOf("?") < 0 ? "?" : "&") + "lang=" + lang,
                 {credentials: "same-origin", cache: "no-store"}).then(function (answer) {
      if (answer.status === 401) { window.location.reload(); throw new Error("logged out"); }
      if (!answer.ok) { throw new Error(path + ": " + answer.status); }
      return answer.text().then(function (text) {
        return {text: text, version: answer.headers.get("X-Egov-Version")};
      });
    });
  }

  function swapRows(answer) {
    var holder = document.createElement("tbody");
    holder.innerHTML = answer.text;
    Array.prototype.slice.call(holder.querySelectorAll("tr.unit")).forEach(function (row) {
      var old = document.getElementById(row.id);
      if (old) {
        row.classList.add("updated");
        old.parentNode.replaceChild(row, old);
      }
    });
    if (answer.version) { shown = answer.version; }
  }

  function schedule() {
    if (timer === null) { timer = window.setTimeout(refresh, 50); }
  }

  // One request at a time: units that change meanwhile wait for the next (the server
  // builds the matrix once per change of the store, however many pages ask).
  function refresh() {
    timer = null;
    var ids = Object.keys(pending);
    if (busy || (ids.length === 0 && !everything)) { return; }
    var query = everything ? "all=1" : ids.map(function (id) {
      return "unit=" + encodeURIComponent(id);
    }).join("&");
    pending = {};
    everything = false;
    busy = true;
    Promise.all([
      get("/rows?" + query).then(swapRows),
      get("/charts").then(function (answer) {
        document.getElementById("charts-box").innerHTML = answer.text;
      })
    ]).catch(function () {}).then(function () {
      busy = false;
      if (Object.keys(pending).length || everything) { schedule(); }
    });
  }

  function connect() {
    var source = new EventSource("/events");
    source.addEventListener("open", function () { show(true); });
    source.addEventListener("version", function (event) {
      if (event.data !== shown) { everything = true; schedule(); }
    });
    source.addEventListener("unit", function (event) {
      pending[event.data] = true;
      schedule();
    });
    source.addEventListener("error", function () {
      show(false);
      if (source.readyState === EventSource.CLOSED) {  // refused (logged out?) or gone
        window.setTimeout(function () {
          fetch("/charts", {credentials: "same-origin", cache: "no-store"}).then(function (a) {
            if (a.status === 401) { window.location.reload(); } else { connect(); }
          }).catch(function () { connect(); });
        }, 3000);
      }
    });
  }

  connect();
})();
