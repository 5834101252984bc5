#!/usr/bin/python3
"""Consumes a dts topic with a real Debian Kafka client, for tests/kafka_test.cc.

  consume.py --client confluent|kafka-python --bootstrap HOST:PORT --password TOKEN
             --topic T --group G --count N [--timeout S] [--groups K]

Reads N records as group G (from the earliest offset when the group has no commit), prints
"OFFSET VALUE" per record, commits synchronously after the last one and closes. With --groups K,
does that for groups G-0 .. G-(K-1) reading 1, 2, .. K records, then checks that each group's
committed offset is its own. Exit codes: 0 ok, 2 authentication refused, 3 timeout, 4 mismatch.
"""
import argparse
import sys
import time


AUTH_ERRORS = []


def confluent_consumer(args, group):
    from confluent_kafka import Consumer, KafkaError

    def on_error(err):  # librdkafka reports authentication failures here, not through poll()
        if err.code() in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED):
            AUTH_ERRORS.append(err)

    return Consumer({
        "error_cb": on_error,
        "bootstrap.servers": args.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "consumer",
        "sasl.password": args.password,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
    })


def consume_confluent(args, group, count):
    from confluent_kafka import KafkaError, TopicPartition
    c = confluent_consumer(args, group)
    c.subscribe([args.topic])
    got = []
    deadline = time.time() + args.timeout
    last = None
    while len(got) < count and time.time() < deadline:
        if AUTH_ERRORS:
            print("authentication refused:", AUTH_ERRORS[0], flush=True)
            sys.exit(2)
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            code = m.error().code()
            if code in (KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED):
                print("authentication refused:", m.error(), flush=True)
                sys.exit(2)
            if code != KafkaError._PARTITION_EOF:
                print("error:", m.error(), file=sys.stderr, flush=True)
            continue
        got.append((m.offset(), m.value().decode()))
        last = m
    if last is not None:
        c.commit(message=last, asynchronous=False)
    committed = c.committed([TopicPartition(args.topic, 0)], timeout=10)[0].offset
    c.close()
    return got, committed


def consume_kafka_python(args, group, count):
    import kafka
    from kafka.errors import KafkaError, NoBrokersAvailable
    try:
        c = kafka.KafkaConsumer(
            args.topic, bootstrap_servers=args.bootstrap, group_id=group,
            security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
            sasl_plain_username="consumer", sasl_plain_password=args.password,
            auto_offset_reset="earliest", enable_auto_commit=False,
            session_timeout_ms=10000, consumer_timeout_ms=int(args.timeout * 1000))
    except (NoBrokersAvailable, KafkaError) as e:
        print("authentication refused:", repr(e), flush=True)
        sys.exit(2)
    got = []
    for m in c:
        got.append((m.offset, m.value.decode()))
        if len(got) >= count:
            break
    c.commit()
    tp = kafka.TopicPartition(args.topic, 0)
    committed = c.committed(tp)
    c.close()
    return got, committed if committed is not None else -1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", required=True, choices=["confluent", "kafka-python"])
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--groups", type=int, default=0)
    args = p.parse_args()
    consume = consume_confluent if args.client == "confluent" else consume_kafka_python
    if args.groups:
        for i in range(args.groups):
            got, committed = consume(args, "%s-%d" % (args.group, i), i + 1)
            if [o for o, _ in got] != list(range(i + 1)) or committed != i + 1:
                print("group %d read %s, committed %s" % (i, got, committed), flush=True)
                sys.exit(4)
        for i in range(args.groups):  # each resumes right after its own commit
            got, committed = consume(args, "%s-%d" % (args.group, i), 1)
            if [o for o, _ in got] != [i + 1] or committed != i + 2:
                print("group %d resumed at %s, committed %s" % (i, got, committed), flush=True)
                sys.exit(4)
        print("groups ok", flush=True)
        return
    got, committed = consume(args, args.group, args.count)
    for o, v in got:
        print(o, v)
    print("committed", committed, flush=True)
    sys.exit(0 if len(got) >= args.count else 3)


if __name__ == "__main__":
    main()
