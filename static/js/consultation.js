/* Keeps an open consultation page current: appends new messages and reloads when the status changes.
   Each poll sends the last message id and the state the page has, so that only news is audited.
   Message text is only ever set with textContent, so whatever anyone writes stays text. */
(function () {
  "use strict";

  var live = document.getElementById("consultation-live");
  if (!live || !window.fetch) {
    return;
  }
  var interval = parseInt(live.dataset.interval, 10) || 4000;
  var state = live.dataset.state;
  var lastId = parseInt(live.dataset.lastId, 10) || 0;
  var thread = document.getElementById("message-thread");
  var empty = document.getElementById("no-messages");
  var url = live.dataset.mode === "messages" ? live.dataset.messagesUrl : live.dataset.statusUrl;

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function append(message) {
    if (!thread || message.id <= lastId || thread.querySelector('[data-message-id="' + message.id + '"]')) {
      return;
    }
    var item = element("li", "message " + (message.mine ? "message-mine" : "message-theirs"));
    item.dataset.messageId = String(message.id);
    item.appendChild(element("div", "small text-muted", message.sender + " · " + message.sent_at));
    if (message.body) {
      item.appendChild(element("div", "message-body", message.body));
    }
    var attachment = message.attachment;
    // Only our own relative links: the URL comes from the server, never from what someone typed.
    if (attachment && typeof attachment.url === "string" && attachment.url.charAt(0) === "/" &&
        attachment.url.charAt(1) !== "/") {
      var wrapper = element("div");
      var link = element("a", null, attachment.name);
      link.href = attachment.url;
      wrapper.appendChild(link);
      item.appendChild(wrapper);
    }
    thread.appendChild(item);
    if (empty) {
      empty.classList.add("d-none");
    }
  }

  function poll() {
    // The server audits a poll only when its answer is news to this page: it is told what the page has.
    var target = url + "?state=" + encodeURIComponent(state) +
      (live.dataset.mode === "messages" ? "&after=" + lastId : "");
    fetch(target, {headers: {Accept: "application/json"}, credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          // Signed out, or the consultation is no longer this user's to see: reloading shows the page
          // that says so, and polling on would only be refused (and audited) again and again.
          window.location.reload();
          return null;
        }
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (data === null) {
          return;
        }
        (data.messages || []).forEach(function (message) {
          append(message);
          lastId = Math.max(lastId, message.id);
        });
        if (data.state && data.state !== state) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, interval);
      })
      .catch(function () {
        // Offline or signed out: try again later, more slowly.
        window.setTimeout(poll, interval * 3);
      });
  }

  window.setTimeout(poll, interval);
})();
