"""Bridge networks: records, IPAM, hosts files, published ports, netlink set-up.

Split by who may import what. Standard library only (the monitor uses them):
``model`` (network records), ``ipam`` (leases), ``hosts`` (live /etc/hosts),
``ports`` (``-p`` parsing), ``proxy`` (the userland port proxy), ``teardown``,
``nat`` (opt-in outbound NAT: an nftables plan as data, applied with ``nft``).
pyroute2 only in ``netlink`` and ``setup``, which run in a short-lived helper
process (``python -m engine.network.setup``) started by a front end, never in
the monitor and never in a threaded front end itself (namespace switches and
pyroute2's forks are unsafe there).
"""
