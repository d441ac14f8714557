"""Run by spark-submit in the Spark smoke test: a streaming query reading a topic with the Kafka source.

Reads everything in the topic once (availableNow), into the memory sink, and prints the rows as JSON lines
prefixed with ROW so the test can tell them from Spark's own output.
"""

import json
import sys

from pyspark.sql import SparkSession

from election.config import get_settings

bootstrap, topic = sys.argv[1], sys.argv[2]
spark = SparkSession.builder.appName("kafka-smoke").getOrCreate()
stream = (
    spark.readStream.format("kafka")
    .option("kafka.bootstrap.servers", bootstrap)
    .options(**get_settings().kafka_spark_options())  # the admin's SASL settings (the broker authenticates all)
    .option("subscribe", topic)
    .option("startingOffsets", "earliest")
    .load()
    .selectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value", "partition")
)
query = stream.writeStream.format("memory").queryName("smoke").trigger(availableNow=True).start()
query.awaitTermination()
for row in spark.sql("SELECT key, value, partition FROM smoke").collect():
    print("ROW " + json.dumps(row.asDict()))
spark.stop()
