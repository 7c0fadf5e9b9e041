# Drives a ZooKeeper-protocol server with kazoo (python3-kazoo) and prints one JSON object of what it saw.
# Usage: /usr/bin/python3 kazoo_script.py HOST:PORT ROOT
import json
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError, NodeExistsError

hosts, root = sys.argv[1], sys.argv[2]
out = {}
zk = KazooClient(hosts=hosts, timeout=10.0)
zk.start(timeout=15)
try:
    out["create_persistent"] = zk.create(root, b"root-data")
    out["create_ephemeral"] = zk.create(root + "/eph", b"e", ephemeral=True)
    out["create_sequential"] = [zk.create(root + "/seq-", b"s", sequence=True) for _ in range(3)]
    out["create_ephemeral_sequential"] = zk.create(root + "/eseq-", b"", ephemeral=True, sequence=True)
    try:
        zk.create(root)
        out["create_existing"] = "no error"
    except NodeExistsError:
        out["create_existing"] = "NodeExistsError"

    data, stat = zk.get(root)
    out["get"] = {"data": data.decode(), "version": stat.version, "ephemeral_owner": stat.ephemeralOwner}
    eph_stat = zk.exists(root + "/eph")
    out["ephemeral_owner_is_session"] = eph_stat.ephemeralOwner == zk.client_id[0]

    stat = zk.set(root, b"new-data")
    out["set_version"] = stat.version
    try:
        zk.set(root, b"x", version=42)
        out["set_bad_version"] = "no error"
    except BadVersionError:
        out["set_bad_version"] = "BadVersionError"
    out["children"] = sorted(zk.get_children(root))

    data_fired = threading.Event()
    child_fired = threading.Event()
    events = {}

    def on_data(event):
        events["data"] = {"type": event.type, "path": event.path}
        data_fired.set()

    def on_child(event):
        events["child"] = {"type": event.type, "path": event.path}
        child_fired.set()

    zk.get(root, watch=on_data)
    zk.get_children(root, watch=on_child)
    zk.set(root, b"watched")
    zk.create(root + "/new-child", b"")
    out["data_watch_fired"] = data_fired.wait(10)
    out["child_watch_fired"] = child_fired.wait(10)
    out["events"] = events

    tx = zk.transaction()
    tx.create(root + "/tx-a", b"a")
    tx.create(root + "/tx-b", b"b")
    tx.set_data(root + "/tx-a", b"a2")
    tx.check(root, 2)
    out["transaction"] = [r if isinstance(r, (str, bool)) else type(r).__name__ for r in tx.commit()]
    tx = zk.transaction()
    tx.create(root + "/tx-c", b"c")
    tx.delete(root + "/does-not-exist")
    out["failed_transaction"] = [type(r).__name__ if isinstance(r, Exception) else r for r in tx.commit()]
    out["tx_c_exists"] = zk.exists(root + "/tx-c") is not None
    out["tx_a_data"] = zk.get(root + "/tx-a")[0].decode()

    zk.delete(root + "/tx-a")
    out["deleted_exists"] = zk.exists(root + "/tx-a") is not None
    try:
        zk.delete(root + "/tx-a")
        out["delete_missing"] = "no error"
    except NoNodeError:
        out["delete_missing"] = "NoNodeError"
    zk.delete(root, recursive=True)
    out["root_exists_after_recursive_delete"] = zk.exists(root) is not None
finally:
    zk.stop()
    zk.close()
print(json.dumps(out))
