"""The sound engineer's OSC surface: the server (server.py: sockets, allow-list, budgets, replies),
the address space as a table of routes (routes.py), the surface that carries out what clients send
(surface.py), the monitoring feed (feed.py), and the clients of the command line: the monitor
(monitor.py) and one request and its reply (request.py)."""
