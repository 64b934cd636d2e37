// The live page: server-sent events name the unit that changed; its row is fetched and
// swapped in place (no reload). Plain JavaScript, no framework.
(function () {
  "use strict";
  var page = document.getElementById("page");
  if (!page) { return; }
  var lang = page.getAttribute("data-lang") || "vi";
  var status = document.getElementById("live-status");
  var pending = {};
  var timer = null;
  var opened = false;
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
      return answer.text();
    });
  }

  function swapRows(html) {
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    Array.prototype.slice.call(holder.querySelectorAll("tr.unit")).forEach(function (row) {
      var old = document.getElementById(row.id);
      if (old) {
        row.classList.add("updated");
        old.parentNode.replaceChild(row, old);
      }
    });
  }

  // One request at a time: units that change meanwhile wait for the next (the server
  // builds the matrix once per change of the store, however many pages ask).
  function refresh() {
    timer = null;
    var ids = Object.keys(pending);
    if (busy || ids.length === 0) { return; }
    pending = {};
    busy = true;
    var query = ids.map(function (id) { return "unit=" + encodeURIComponent(id); }).join("&");
    Promise.all([
      get("/rows?" + query).then(swapRows),
      get("/charts").then(function (html) {
        document.getElementById("charts-box").innerHTML = html;
      })
    ]).catch(function () {}).then(function () {
      busy = false;
      if (Object.keys(pending).length && timer === null) { timer = window.setTimeout(refresh, 50); }
    });
  }

  function connect() {
    var source = new EventSource("/events");
    source.addEventListener("open", function () {
      if (opened) { window.location.reload(); return; }  // missed updates while away
      opened = true;
      show(true);
    });
    source.addEventListener("unit", function (event) {
      pending[event.data] = true;
      if (timer === null) { timer = window.setTimeout(refresh, 50); }
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
