"""Rendering a URL list cut into input shards: one process rendering whole shards (`render.py`), and the
local distributor handing shards to P such processes (`local.py`). Another distributor (many machines)
needs only hand out the same shards: the output protocol (write/named.py, write/markers.py) is per shard."""
