"""What each line of the corpus log files must become (1-based line numbers).

Written by reading the lines (and PROVENANCE.tsv), not by running the parser:
``EXPECTED[file][line] = (event type, {field: value})`` where a field is an
envelope field or a ``data`` key. ``NOT_PARSED[file][line] = reason`` lists
every line deliberately left without an event. The two big loghub files are
checked line by line by rules in ``test_corpus.py`` instead.
"""

from __future__ import annotations

from typing import Any

ARISTA_MAC = "fa:16:3e:24:e7:22"
REQ_GRIDKA = "req-e19de3f2-c09b-46f4-97ac-ca9b21776916"
TRIPLEO_PROJECT = "e378930326714ae1bd073fd383b81fff"

EXPECTED: dict[str, dict[int, tuple[str, dict[str, Any]]]] = {
    "switch-bpduguard-arista-eos.log": {
        1: ("switch.stp.bpdu_guard", {"host": "SW-1", "switch": "SW-1",
                                      "interface": "Port-Channel35", "vendor": "arista-eos",
                                      "mac": ARISTA_MAC}),
        2: ("switch.errdisable", {"switch": "SW-1", "interface": "Port-Channel35",
                                  "reason": "bpduguard"}),
        3: ("switch.mlag.inactive", {"switch": "SW-1", "interface": "Port-Channel35"}),
        4: ("switch.link.down", {"switch": "SW-1", "interface": "Port-Channel35",
                                 "description": "Server35"}),
        5: ("switch.stp.interface_removed", {"interface": "Port-Channel35",
                                             "instance": "MST0"}),
        6: ("switch.link.down", {"switch": "SW-1", "interface": "Ethernet35"}),
    },
    "switch-bpduguard-cisco-ios.log": {
        1: ("switch.stp.bpdu_guard", {"interface": "Fa1/0/11", "vendor": "cisco-ios",
                                      "mac": None, "switch": None}),
        2: ("switch.errdisable", {"interface": "Fa1/0/11", "reason": "bpduguard",
                                  "vendor": "cisco-ios"}),
    },
    "switch-bpduguard-cisco-nxos.log": {
        1: ("switch.stp.bpdu_guard", {"host": "switch01", "interface": "Ethernet1/43",
                                      "vendor": "cisco-nxos", "mac": None}),
    },
    "switch-bpduguard-juniper.log": {
        1: ("switch.stp.bpdu_guard", {"host": "vmx01", "interface": "ge-0/0/17",
                                      "vendor": "juniper"}),
    },
    "nova-compute-volume-not-created.log": {
        1: ("nova.compute.volume_not_created", {
            "instance_id": "54a41735-a4cb-4312-b812-52e4f3d8c500",
            "volume_id": "728bdc40-fc22-4b65-b6b6-c94ee7f98ff0", "seconds": 187,
            "attempts": 61}),
        8: ("nova.compute.volume_not_created", {
            "instance_id": "fc5e4c94-ff40-440d-b55a-289344a6905f",
            "volume_id": "219b20df-98aa-4323-b93d-79ade2ccf792", "seconds": 192,
            "attempts": 61, "severity": "error"}),
    },
    "cinder-api.log": {
        1: ("cinder.api.volume_create", {"size_gb": 1, "request_id": REQ_GRIDKA,
                                         "user_id": "df77e2b579b04b8a81ba0e993a318b19",
                                         "project_id": "cacb2edc36a343c4b4747b8a8349371a"}),
        16: ("cinder.api.request", {"method": "GET", "status": None,
                                    "project_id": "f438353be1494506b2950a5c9d79d374",
                                    "path": "/v1/f438353be1494506b2950a5c9d79d374/volumes/detail"}),
        17: ("cinder.api.request", {"method": None, "status": 200,
                                    "project_id": "f438353be1494506b2950a5c9d79d374"}),
        18: ("cinder.api.request", {"method": "GET"}),
        19: ("cinder.api.request", {"status": 200}),
        20: ("cinder.api.request", {"method": "GET"}),
        21: ("cinder.api.request", {"status": 200}),
        22: ("cinder.api.request", {"method": "GET"}),
        24: ("cinder.api.request", {"method": "POST",
                                    "path": "/v1/e0e75c086b5043ecad55dafe5a6a9d26/volumes",
                                    "project_id": "e0e75c086b5043ecad55dafe5a6a9d26"}),
        31: ("cinder.api.request", {"method": "GET", "project_id": TRIPLEO_PROJECT,
                                    "volume_id": "da7d243e-7222-4975-96db-5d605ec2f527",
                                    "request_id": "req-76c0ae15-ae69-480a-ba75-97680d291cfd"}),
        32: ("cinder.api.request", {"status": 200, "project_id": TRIPLEO_PROJECT}),
        33: ("cinder.api.request", {"method": "DELETE", "project_id": TRIPLEO_PROJECT,
                                    "volume_id": "da7d243e-7222-4975-96db-5d605ec2f527"}),
    },
    "cinder-volume.log": {
        2: ("cinder.volume.volume_creating", {
            "volume_id": "9e9627d7-7990-432a-a271-978a9e5da750", "source": "source_vol",
            "global_request_id": "req-df272413-5111-4019-9c25-9936ee0952d3",
            "request_id": "req-791b332c-d3c0-4c52-a96e-37e0ad698497",
            "project_id": "2767ef0256804b92ae0e51e3a99f809a"}),
        3: ("cinder.volume.task_state", {"state": "FAILURE", "from_state": "RUNNING",
                                         "severity": "warning"}),
    },
    "haproxy.log": {
        1: ("haproxy.request", {"frontend": "http-in", "backend": "static", "server": "srv1",
                                "status": 200, "bytes": 243, "termination_state": "----",
                                "timers": "9/10/7/14/+30", "method": "GET",
                                "path": "/image.iso", "client": "10.0.1.2:33317"}),
        3: ("haproxy.request", {"mode": "tcp", "frontend": "fnt", "backend": "bck",
                                "bytes": 212, "termination_state": "--", "status": None}),
        6: ("haproxy.connection_error", {"frontend": "frt", "bind": "f1"}),
        13: ("haproxy.request", {"status": 502, "termination_state": "PH--",
                                 "path": "/cgi-bin/bug.cgi?"}),
        14: ("haproxy.request", {"server": "<NOSRV>", "status": -1, "termination_state": "CR--",
                                 "method": None}),
        15: ("haproxy.request", {"status": 408, "termination_state": "cR--"}),
        16: ("haproxy.request", {"mode": "tcp", "termination_state": "cD"}),
        17: ("haproxy.request", {"status": 503, "termination_state": "SC--", "method": "HEAD"}),
    },
    "dnsmasq-dhcp.log": {
        4: ("dnsmasq.dhcp.ack", {"ip": "192.168.100.3", "mac": "fa:16:3e:56:0b:6f",
                                 "interface": "br100", "hostname": "test", "host": "mynode"}),
        5: ("dnsmasq.dhcp.discover", {"ip": None, "mac": "fa:16:3e:78:44:84",
                                      "message": "no address available"}),
        17: ("dnsmasq.dhcp.nak", {"ip": "192.168.0.183", "mac": "6c:c7:ec:39:74:ab",
                                  "interface": "lan", "message": "wrong server-ID",
                                  "hostname": None}),
        43: ("dnsmasq.dhcp.nak", {"ip": "192.168.0.158", "interface": "br0"}),
        47: ("dnsmasq.dhcp.request", {"ip": "xxx.yyy.zzz.23", "mac": "f0:a7:31:20:4e:10",
                                      "interface": "end0", "xid": "154878583"}),
        49: ("dnsmasq.dhcp.ack", {"hostname": "cpl-wifi-ce-fr", "xid": "154878583"}),
    },
    "dhclient.log": {
        2: ("dhclient.dhcp.ack", {"ip": "217.26.49.116", "server": "217.26.49.123",
                                  "host": "doxtestbox"}),
        5: ("dhclient.dhcp.bound", {"ip": "217.26.49.116", "renewal_seconds": 36799}),
    },
    "nova-api-access-other.log": {
        1: ("nova.api.request", {"method": "GET", "path": "/compute/v2.1", "status": 302,
                                 "length": 0, "duration": 0.017, "remote_addr": "85.10.193.66"}),
        2: ("nova.api.request", {"status": 200, "length": 389}),
        3: ("nova.api.request", {"path": "/v2.1/flavors/c1", "status": 404, "length": 75,
                                 "action": "flavors", "remote_addr": "192.168.130.1"}),
        4: ("nova.api.request", {"status": 200, "length": 333}),
        5: ("nova.api.request", {"status": 200, "length": 500}),
    },
    "rabbitmq-memory-alarm.log": {
        1: ("rabbitmq.alarm.memory.cleared", {"scope": "cluster", "severity": "warning"}),
        3: ("rabbitmq.alarm.memory.set", {"host": "rabbit@ctl001", "node": "rabbit@ctl001"}),
        8: ("rabbitmq.alarm.memory.cleared", {"host": "rabbit@ctl001"}),
        10: ("rabbitmq.alarm.memory.cleared", {"scope": "cluster"}),
        16: ("rabbitmq.memory.limit_set", {"limit": 196 * 1024 * 1024}),
        18: ("rabbitmq.memory.limit_set", {"limit": 0, "total": 67424264192}),
        19: ("rabbitmq.memory.watermark", {"used": 98217984, "limit": 0}),
        20: ("rabbitmq.alarm.memory.set", {"host": "rabbit@63e2dc61db9f", "used": 98217984,
                                           "limit": 0}),
        21: ("rabbitmq.alarm.memory.set", {"host": "rabbit@rabbitmq1"}),
        27: ("rabbitmq.alarm.memory.set", {
            "host": "rabbit@rabbitmq-server-0.rabbitmq-nodes.rabbitmq-cluster"}),
        31: ("rabbitmq.memory.limit_set", {"limit": 3607772529, "total": 5153960756}),
    },
}

_TB = "traceback or exception continuation line (carries no event of its own)"
_BANNER = "RabbitMQ alarm banner / continuation of a multi-line record"

NOT_PARSED: dict[str, dict[int, str]] = {
    "nova-compute-volume-not-created.log": dict.fromkeys(range(2, 8), _TB),
    "cinder-api.log": {
        2: "glance connection error (not a volume-path event)",
        **dict.fromkeys(range(3, 14), _TB),
        14: "fault middleware error summary (not a volume-path event)",
        15: "policy deprecation warning",
        23: "eventlet connection accepted (no request detail)",
        25: "exception handling resource (error text, no request detail)",
        **dict.fromkeys(range(26, 31), _TB),
    },
    "cinder-volume.log": {1: "driver initialisation notice"},
    "dhclient.log": {
        1: "the ifup wrapper (sh) echoing dhclient's own line 2",
        3: "RTNETLINK message from the wrapper",
        4: "exit-hook status from root",
        6: "the wrapper (sh) echoing dhclient's own line 5",
        7: "dhclient version banner",
        **dict.fromkeys(range(8, 12), "dhclient banner echoed by the wrapper"),
    },
    "dnsmasq-dhcp.log": {
        n: "dnsmasq --log-dhcp transaction detail (range, vendor, options, tags, sizes)"
        for n in (44, 45, 46, 48, 50, 51, 52, 53, 54)
    },
    "haproxy.log": {2: "legacy 'Connect from' notice without request outcome"},
    "rabbitmq-memory-alarm.log": {
        2: _BANNER, 4: _BANNER, 5: _BANNER, 6: _BANNER, 7: _BANNER, 9: _BANNER, 11: _BANNER,
        12: "node down report (not a memory alarm)", 13: _BANNER,
        14: "node down report (not a memory alarm)", 15: _BANNER, 17: _BANNER,
        **dict.fromkeys(range(22, 27), _BANNER), **dict.fromkeys(range(28, 31), _BANNER),
    },
}
