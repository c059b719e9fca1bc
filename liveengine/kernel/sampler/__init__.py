"""The sampler's parts that are not a voice: which regions sound for a note (`layers`), and how a
voice reads its sample (`source`). The sample voice itself is `voices.sample`."""
