# Drives wechatpy (an independent, widely used implementation of WeChat's message crypto)
# for kefu's interop tests. Reads one JSON request on stdin, writes one JSON answer.
import json
import sys

from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WorkCrypto

req = json.loads(sys.stdin.read())
op = req["op"]
if op == "oa_encrypt":
    c = WeChatCrypto(req["token"], req["key"], req["app_id"])
    out = {"envelope": c.encrypt_message(req["xml"], req["nonce"], req["timestamp"])}
elif op == "oa_decrypt":
    c = WeChatCrypto(req["token"], req["key"], req["app_id"])
    out = {"xml": c.decrypt_message(req["envelope"], req["signature"], req["timestamp"], req["nonce"])}
elif op == "work_check_echostr":
    c = WorkCrypto(req["token"], req["key"], req["corp_id"])
    out = {"echo": c.check_signature(req["signature"], req["timestamp"], req["nonce"], req["echostr"])}
else:
    raise SystemExit("unknown op " + op)
if isinstance(out.get("echo"), bytes):
    out["echo"] = out["echo"].decode("utf-8")
if isinstance(out.get("xml"), bytes):
    out["xml"] = out["xml"].decode("utf-8")
print(json.dumps(out, ensure_ascii=False))
