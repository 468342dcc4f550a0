// Swagger UI over this gateway's own OpenAPI document. validatorUrl: null keeps it from sending the
// document to swagger.io's validator; nothing on this page loads from anywhere but this server.
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
