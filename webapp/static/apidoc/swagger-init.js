// Starts Swagger UI from a file, not an inline script, so the docs page runs under the console's CSP.
(function () {
  var specUrl = document.currentScript.dataset.specUrl;
  window.addEventListener("load", function () {
    window.ui = SwaggerUIBundle({
      url: specUrl,
      dom_id: "#swagger-ui",
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
    });
  });
})();
