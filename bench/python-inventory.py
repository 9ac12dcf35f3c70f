"""The inventory loops users write with libvirt-python, timed inside Python.

Usage: python3 python-inventory.py URI
Connects once, then reads one mode per line on stdin and answers each with one JSON line:
  loop   listAllDomains, then info(), autostart() and XMLDesc(0) per domain; XML not parsed
  parse  the same loop, also reading disks (target dev, source file) and NICs (mac, source
         network) out of the XML with xml.etree.ElementTree
  bulk   listAllDomains + getAllDomainStats + XMLDesc(0) per domain
The answer: {"mode", "ms", "domains", "disks", "nics", "xmlBytes"}; "error" instead when a mode fails.
"""

import json
import sys
import time
import xml.etree.ElementTree as ET

import libvirt


def loop(conn, parse):
    out = []
    xml_bytes = 0
    for dom in conn.listAllDomains(0):
        state, max_mem, mem, vcpus, _cpu_time = dom.info()
        entry = {
            "name": dom.name(),
            "uuid": dom.UUIDString(),
            "state": state,
            "vcpus": vcpus,
            "memoryKiB": mem,
            "maxMemoryKiB": max_mem,
            "autostart": bool(dom.autostart()),
        }
        xml = dom.XMLDesc(0)
        xml_bytes += len(xml)
        if parse:
            root = ET.fromstring(xml)
            disks = []
            for disk in root.findall("./devices/disk"):
                target = disk.find("target")
                source = disk.find("source")
                disks.append(
                    {
                        "targetDevice": None if target is None else target.get("dev"),
                        "sourcePath": None if source is None else source.get("file"),
                    }
                )
            nics = []
            for nic in root.findall("./devices/interface"):
                mac = nic.find("mac")
                source = nic.find("source")
                nics.append(
                    {
                        "mac": None if mac is None else mac.get("address"),
                        "network": None if source is None else source.get("network"),
                    }
                )
            entry["disks"] = disks
            entry["interfaces"] = nics
        out.append(entry)
    return out, xml_bytes


def bulk(conn):
    domains = conn.listAllDomains(0)
    stats = conn.getAllDomainStats(0, 0)
    xmls = [dom.XMLDesc(0) for dom in domains]
    return [{"stats": s} for _dom, s in stats], sum(len(x) for x in xmls)


def run(conn, mode):
    start = time.perf_counter()
    if mode == "loop":
        domains, xml_bytes = loop(conn, parse=False)
    elif mode == "parse":
        domains, xml_bytes = loop(conn, parse=True)
    elif mode == "bulk":
        domains, xml_bytes = bulk(conn)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    ms = (time.perf_counter() - start) * 1000
    return {
        "mode": mode,
        "ms": ms,
        "domains": len(domains),
        "disks": sum(len(d.get("disks", [])) for d in domains),
        "nics": sum(len(d.get("interfaces", [])) for d in domains),
        "xmlBytes": xml_bytes,
    }


def main():
    conn = libvirt.open(sys.argv[1])
    try:
        print(json.dumps({"ready": True, "libvirt": libvirt.getVersion()}), flush=True)
        for line in sys.stdin:
            mode = line.strip()
            if mode == "":
                continue
            if mode == "quit":
                break
            try:
                answer = run(conn, mode)
            except Exception as error:  # noqa: BLE001 - reported to the bench, which prints it
                answer = {"mode": mode, "error": str(error)}
            print(json.dumps(answer), flush=True)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
