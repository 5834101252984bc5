#!/usr/bin/python3
"""Checks what a consumer group's token allows, with python3-confluent-kafka, for
tests/kafka_test.cc.

  authorized.py --bootstrap HOST:PORT --password TOKEN --topic T --group G --count N [--timeout S]

Subscribes to T as group G and reads N records (printing "OFFSET VALUE" each), then commits
after the last one. Exit codes: 0 read and committed, 5 the group was refused
(GROUP_AUTHORIZATION_FAILED), 6 the topic was refused (TOPIC_AUTHORIZATION_FAILED), 3 timeout.
"""
import argparse
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--timeout", type=float, default=60)
    args = p.parse_args()
    refused = []

    def on_error(err):
        refused.append(err)

    c = Consumer({
        "error_cb": on_error,
        "bootstrap.servers": args.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "reader",
        "sasl.password": args.password,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    c.subscribe([args.topic])
    got = 0
    last = None
    deadline = time.time() + args.timeout
    while got < args.count and time.time() < deadline:
        for err in refused:
            if err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
                print("group refused:", err, flush=True)
                sys.exit(5)
            if err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                print("topic refused:", err, flush=True)
                sys.exit(6)
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            code = m.error().code()
            if code == KafkaError.GROUP_AUTHORIZATION_FAILED:
                print("group refused:", m.error(), flush=True)
                sys.exit(5)
            if code == KafkaError.TOPIC_AUTHORIZATION_FAILED:
                print("topic refused:", m.error(), flush=True)
                sys.exit(6)
            if code != KafkaError._PARTITION_EOF:
                print("error:", m.error(), flush=True)
            continue
        print(m.offset(), m.value().decode(), flush=True)
        got += 1
        last = m
    if got < args.count:
        print("timeout after", got, "records", flush=True)
        sys.exit(3)
    try:
        c.commit(message=last, asynchronous=False)
    except KafkaException as e:
        if e.args[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
            print("group refused:", e, flush=True)
            sys.exit(5)
        raise
    print("committed", last.offset() + 1, flush=True)
    c.close()


if __name__ == "__main__":
    main()
