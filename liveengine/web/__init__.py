"""The conductor's and engineer's pages, and their server (control plane): see server.py and schedule.py."""
