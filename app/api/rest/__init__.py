"""The REST API, one module per resource (app/api/rest/routes.py lists them)."""

# Every REST route's path starts here. Each resource's router carries it as its own prefix,
# so its routes are complete as declared and the app registers them as they are (see
# app/main.py), not through ``include_router``.
API_V1 = "/api/v1"
