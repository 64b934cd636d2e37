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

  function swapRow(unitId) {
    return get("/rows/" + encodeURIComponent(unitId)).then(function (html) {
      var old = document.getElementById("unit-" + unitId);
      var holder = document.createElement("tbody");
      holder.innerHTML = html.trim();
      var row = holder.querySelector("tr");
      if (old && row) {
        row.classList.add("updated");
        old.parentNode.replaceChild(row, old);
      }
    });
  }

  function refresh() {
    timer = null;
    var ids = Object.keys(pending);
    pending = {};
    ids.forEach(function (unitId) { swapRow(unitId).catch(function () {}); });
    get("/charts").then(function (html) {
      document.getElementById("charts-box").innerHTML = html;
    }).catch(function () {});
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
