"""The synth patches that ship with liveengine: this folder installs as the package
`liveengine.patches`, so a show names a patch by its file name without `.toml` wherever
liveengine is installed from (a checkout, a wheel)."""
