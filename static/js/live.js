// Live queues: poll the counts endpoint, keep the navigation badges current, and when the queue
// changed re-fetch this page and swap its live regions, so a queue never needs a reload.
(function () {
  "use strict";
  if (window.liveQueues) return; // loaded by the layout and by a queue page: run once
  window.liveQueues = true;

  var script = document.currentScript;
  var COUNTS_URL = (script && script.dataset.countsUrl) || "/queues/counts";
  var DEFAULT_SECONDS = 12;

  function intervalMs() {
    var holder = document.querySelector("[data-live-interval]");
    var seconds = parseFloat((holder && holder.dataset.liveInterval) || (script && script.dataset.interval));
    if (!(seconds > 0)) seconds = DEFAULT_SECONDS;
    return Math.max(seconds, 0.5) * 1000;
  }

  function knownVersion() {
    var region = document.querySelector("[data-live-version]");
    return region ? region.dataset.liveVersion : null;
  }

  var version = knownVersion();
  var timer = null;
  var stopped = false;
  var busy = false;

  function showCounts(counts) {
    document.querySelectorAll("[data-queue-count]").forEach(function (badge) {
      var count = counts[badge.dataset.queueCount] || 0;
      badge.textContent = String(count);
      badge.hidden = count === 0;
    });
    document.querySelectorAll("[data-home-queue]").forEach(function (badge) {
      var key = badge.dataset.homeQueue;
      if (key in counts) badge.textContent = String(counts[key]);
    });
  }

  function swapRegions() {
    var regions = document.querySelectorAll("[data-live-region]");
    if (!regions.length) return Promise.resolve();
    return fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) {
        // Signed out meanwhile: the page would be the login form, not this queue.
        if (!response.ok || response.redirected) return null;
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (region) {
          var name = region.dataset.liveRegion;
          var replacement = fresh.querySelector('[data-live-region="' + CSS.escape(name) + '"]');
          if (!replacement) return;
          region.innerHTML = replacement.innerHTML;
          if (replacement.dataset.liveVersion) region.dataset.liveVersion = replacement.dataset.liveVersion;
        });
      });
  }

  function poll() {
    if (busy || stopped) return Promise.resolve();
    busy = true;
    return fetch(COUNTS_URL, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401 || response.status === 403) {
          stopped = true; // signed out or not staff: nothing to keep current
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        showCounts(data.counts || {});
        var changed = version !== null && data.version !== version;
        version = data.version;
        if (changed) return swapRegions();
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { busy = false; });
  }

  function schedule() {
    clearTimeout(timer);
    if (stopped || document.hidden) return; // no polling from a tab nobody looks at
    timer = setTimeout(function () { poll().then(schedule); }, intervalMs());
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
    } else {
      poll().then(schedule);
    }
  });

  if (version === null) {
    poll().then(schedule); // no version in the page: the first answer is the baseline
  } else {
    schedule();
  }
}());
