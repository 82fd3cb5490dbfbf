"""A loopback sandbox serving both HTTP contracts of docs/api.md over a seeded, messy world.

Entry points: ``server.start_sandbox`` (tests, demos), ``server.serve`` (``smtui sandbox``),
``admin.AdminClient`` (drive the world), ``app.create_app`` (the ASGI app).
"""
