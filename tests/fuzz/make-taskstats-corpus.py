#!/usr/bin/env python3
"""Write the crafted seeds of tests/fuzz/corpus/taskstats/ (the real ones, real-*, come from
`VMATLAS_TASKSTATS_CAPTURE=tests/fuzz/corpus/taskstats build/tests/live_taskstats` as root).
Each seed is the family id (u16, little-endian) and then one recv() buffer of netlink messages,
as fuzz_taskstats.c reads them. Run from the repository root."""
import os, struct

OUT = "tests/fuzz/corpus/taskstats"
FAMILY = 0x1c
NLMSG_NOOP, NLMSG_ERROR, NLMSG_DONE = 1, 2, 3
CMD_GET, CMD_NEW = 1, 2
T_PID, T_TGID, T_STATS, T_AGGR_PID, T_AGGR_TGID, T_NULL = 1, 2, 3, 4, 5, 6
AGROUP, AXSIG = 0x20, 0x10

# struct taskstats offsets (include/uapi/linux/taskstats.h) and sizes by version.
OFF = dict(version=0, exitcode=4, flag=8, comm=80, uid=120, pid=128, ppid=132, btime=136,
           etime=144, hiwater_rss=200, hiwater_vm=208, btime64=344, tgid=368, tgetime=376)
SIZE = {8: 328, 10: 352, 11: 368, 12: 400, 13: 416, 14: 432, 16: 560, 17: 688}
FMT = dict(version="<H", exitcode="<I", flag="<B", uid="<I", pid="<I", ppid="<I", btime="<I",
           etime="<Q", hiwater_rss="<Q", hiwater_vm="<Q", btime64="<Q", tgid="<I", tgetime="<Q")


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def nla(t, payload, padded=True):
    b = struct.pack("<HH", 4 + len(payload), t) + payload
    return pad4(b) if padded else b


def nlmsg(t, payload, seq=0):
    return pad4(struct.pack("<IHHII", 16 + len(payload), t, 0, seq, 0) + payload)


def genl(cmd, attrs):
    return struct.pack("<BBH", cmd, 1, 0) + attrs


def stats(size, shift=0, comm=b"", **f):
    s = bytearray(size)
    for k, v in f.items():
        off = OFF[k]
        if k not in ("version", "exitcode", "flag"):
            off += 3 * shift if OFF[k] < 344 else (5 * shift if k == "btime64" else 6 * shift)
        b = struct.pack(FMT[k], v)
        if off + len(b) <= size:
            s[off:off + len(b)] = b
    if comm:
        off = OFF["comm"] + 3 * shift
        s[off:off + len(comm)] = comm[:32]
    return bytes(s)


def aggr(kind, ident, st, pad=False):
    inner = nla(T_PID if kind == T_AGGR_PID else T_TGID, struct.pack("<I", ident))
    if pad:
        inner += nla(T_NULL, b"")
    return nla(kind, inner + nla(T_STATS, st))


def exit_msg(st, pid, tgid=None, family=FAMILY, cmd=CMD_NEW):
    a = aggr(T_AGGR_PID, pid, st)
    if tgid is not None:
        a += aggr(T_AGGR_TGID, tgid, bytes(len(st)))
    return nlmsg(family, genl(cmd, a))


def base(version=16, size=None, shift=0, **kw):
    f = dict(version=version, exitcode=3 << 8, flag=AGROUP, uid=1000, pid=4242, ppid=1,
             btime=1700000000, btime64=1700000000, etime=1234567, tgid=4242, tgetime=1234567,
             hiwater_rss=65600, hiwater_vm=70000)
    f.update(kw)
    return stats(size or SIZE[version], shift, comm=b"short-lived", **f)


def seeds():
    yield "single-v16", exit_msg(base(), 4242)
    yield "single-v16-nullpad", nlmsg(FAMILY, genl(CMD_NEW, nla(T_NULL, b"") +
                                                     aggr(T_AGGR_PID, 4242, base(), pad=True)))
    thread = base(version=14, pid=5002, tgid=5000, flag=0, tgetime=6000000, etime=1000000)
    last = base(version=14, pid=5001, tgid=5000, flag=AGROUP | AXSIG, exitcode=9,
                tgetime=10200000, etime=2500000)
    yield "mt-thread-then-group", exit_msg(thread, 5002) + exit_msg(last, 5001, 5000)
    yield "leader-first", exit_msg(base(version=14, pid=5000, tgid=5000, flag=0), 5000)
    old = stats(SIZE[8], comm=b"old", version=8, exitcode=256, pid=7000, ppid=1,
                btime=1200000000, etime=5000, hiwater_rss=1024, hiwater_vm=4096)
    yield "v8-guess-and-aggr", exit_msg(old, 7000) + exit_msg(old, 7000, 6999)
    yield "v10-btime64", exit_msg(base(version=10, btime=0xffffffff, btime64=5000000000), 4242)
    yield "v12", exit_msg(base(version=12), 4242)
    yield "v17-longer", exit_msg(base(version=17), 4242)
    yield "v15-max", exit_msg(base(version=15, size=496, shift=8), 4242)
    yield "v15-maxmin", exit_msg(base(version=15, size=560, shift=16), 4242)
    yield "v15-odd-size", exit_msg(base(version=15, size=432), 4242)
    yield "short-stats", exit_msg(base(size=212), 4242)
    yield "v12-cut-short", exit_msg(base(version=12, size=368), 4242)
    yield "version0", exit_msg(base(version=0, size=560), 4242)
    yield "truncated", exit_msg(base(), 4242, 4242)[:300]
    yield "error-eperm", nlmsg(NLMSG_ERROR, struct.pack("<i", -1) + bytes(16))
    yield "ack-then-exit", nlmsg(NLMSG_ERROR, struct.pack("<i", 0) + bytes(16)) + \
        exit_msg(base(), 4242)
    yield "noop-exit-done-exit", nlmsg(NLMSG_NOOP, b"") + exit_msg(base(), 4242) + \
        nlmsg(NLMSG_DONE, b"") + exit_msg(base(), 4242)
    bad = nlmsg(FAMILY, genl(CMD_NEW, struct.pack("<HH", 200, T_AGGR_PID) + bytes(64)))
    yield "attr-past-message", bad + exit_msg(base(), 4242)
    yield "nla-len-2", nlmsg(FAMILY, genl(CMD_NEW, struct.pack("<HH", 2, T_AGGR_PID))) + \
        exit_msg(base(), 4242)
    wide = nla(T_AGGR_PID, nla(T_PID, struct.pack("<Q", 4242)) + nla(T_STATS, base()))
    yield "pid-8-bytes", nlmsg(FAMILY, genl(CMD_NEW, wide))
    yield "pid-mismatch", exit_msg(base(), 4243)
    yield "tgid-mismatch", exit_msg(base(), 4242, 4000)
    yield "hiwater-overflow", exit_msg(base(hiwater_vm=1 << 60), 4242)
    yield "other-family", exit_msg(base(), 4242, family=FAMILY + 1)
    yield "other-command", exit_msg(base(), 4242, cmd=CMD_GET)
    yield "tgid-only", nlmsg(FAMILY, genl(CMD_NEW, aggr(T_AGGR_TGID, 5000, base())))
    yield "many", b"".join(exit_msg(base(pid=100 + i, tgid=100 + i), 100 + i)
                           for i in range(70))
    yield "trailing-junk", exit_msg(base(), 4242) + b"\1\2\3"


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, buf in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(struct.pack("<H", FAMILY) + buf)


if __name__ == "__main__":
    main()
