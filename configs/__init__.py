"""Example shows: this folder installs as the package `liveengine.configs`, so the demo show
is at hand wherever liveengine is installed from (`liveengine demo` copies it out)."""
