"""Python's xmlrpc.client against the bridge: python3 python_client.py URL.

Prints one JSON object with every result (faults as {faultCode, faultString}).
"""
import json
import sys
import xmlrpc.client


def fault(f):
    return {"faultCode": f.faultCode, "faultString": f.faultString}


def main():
    proxy = xmlrpc.client.ServerProxy(sys.argv[1], allow_none=True)
    out = {}
    out["fifo_execute"] = proxy.fifo.execute({"cmdname": "ul_show_contact", "cmdparams": ["location", "012345"]})
    out["per_command"] = proxy.ul_show_contact("location", "012345")
    try:
        proxy.fifo.execute({"cmdname": "ul_show_contact", "cmdparams": ["location", "999"]})
        out["not_found"] = "no fault"
    except xmlrpc.client.Fault as f:
        out["not_found"] = fault(f)
    out["list_methods"] = proxy.system.listMethods()
    out["method_help"] = proxy.system.methodHelp("ul_show_contact")
    out["method_signature"] = proxy.system.methodSignature("ul_show_contact")
    out["nil_param"] = proxy.echo(None, 7, True)

    mc = xmlrpc.client.MultiCall(proxy)
    mc.fifo.execute({"cmdname": "ul_show_contact", "cmdparams": ["location", "012345"]})
    mc.ul_show_contact("location", "999")
    mc.system.listMethods()
    out["multicall"] = mc().results
    json.dump(out, sys.stdout, sort_keys=True)
    print()


main()
