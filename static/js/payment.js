/* Stripe's Payment Element for the consultation fee. Stripe.js must come from js.stripe.com, so it is
   added here (this page's Content-Security-Policy allows that host) rather than by a tag in the page. */
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form) {
    return;
  }
  var submit = document.getElementById("payment-submit");
  var message = document.getElementById("payment-message");
  var unavailable = document.getElementById("payment-unavailable");

  function show(text) {
    message.textContent = text;
    message.classList.remove("d-none");
  }

  function start() {
    var stripe = window.Stripe(form.dataset.publishableKey, {locale: form.dataset.locale || "auto"});
    var elements = stripe.elements({clientSecret: form.dataset.clientSecret});
    elements.create("payment").mount("#payment-element");
    submit.disabled = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      submit.disabled = true;
      message.classList.add("d-none");
      stripe.confirmPayment({elements: elements, confirmParams: {return_url: form.dataset.returnUrl}})
        .then(function (result) {
          // Only reached on an error; on success Stripe sends the browser to return_url.
          if (result.error) {
            show(result.error.message);
          }
          submit.disabled = false;
        });
    });
  }

  var script = document.createElement("script");
  script.src = "https://js.stripe.com/v3/";
  script.onload = start;
  script.onerror = function () {
    unavailable.classList.remove("d-none");
  };
  document.head.appendChild(script);
})();
