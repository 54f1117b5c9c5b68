/*
 * LabStream: the seed lab's Spark job (jupyter_spark/work/
 * kafka-structured-streaming.py, as shared/reference/seed-lab.md describes
 * it) in Java, for bench/lab: Spark 3.3.2 Structured Streaming from Kafka
 * into a Delta Lake 2.3 table.
 *
 *   LabStream BOOTSTRAP TOPIC TABLE_DIR
 *
 * 1. creates (or replaces) the Delta table with the lab's columns;
 * 2. infers the JSON schema of keys and values with a batch read of the
 *    topic (the latest value per key, as the lab does);
 * 3. streams the topic into the table: tombstones dropped, kafka_key,
 *    kafka_offset, payload.op, the key's id, after's names and email, the
 *    Kafka timestamp as created_at; updated_at stays null.  Appends, with
 *    the stream's checkpoint under TABLE_DIR/_checkpoints/etl-from-kafka.
 * Runs until killed.
 */
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.struct;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

public class LabStream
{
	public static void main(String[] args) throws Exception
	{
		if (args.length != 3)
		{
			System.err.println("usage: LabStream BOOTSTRAP TOPIC TABLE_DIR");
			System.exit(1);
		}
		String bootstrap = args[0];
		String topic = args[1];
		String table = args[2];
		SparkSession spark = SparkSession.builder()
			.appName("etl-from-kafka")
			.master("local[*]")
			.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
			.config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
			.config("spark.ui.enabled", "false")
			.config("spark.driver.host", "127.0.0.1")
			.config("spark.driver.bindAddress", "127.0.0.1")
			.getOrCreate();

		spark.sql("CREATE OR REPLACE TABLE delta.`" + table.replace("`", "``") + "` ("
				  + "kafka_key STRING, kafka_offset BIGINT, op STRING, id BIGINT, first_name STRING, "
				  + "last_name STRING, email STRING, created_at TIMESTAMP, updated_at TIMESTAMP) USING delta");

		/* the schemas, from the latest value of each key in the topic */
		Dataset<Row> batch = spark.read().format("kafka")
			.option("kafka.bootstrap.servers", bootstrap)
			.option("subscribe", topic)
			.option("startingOffsets", "earliest")
			.load()
			.where("value IS NOT NULL")
			.selectExpr("CAST(key AS STRING) AS k", "CAST(value AS STRING) AS v", "offset");
		Dataset<Row> latest = batch.groupBy("k").agg(max(struct(col("offset"), col("v"))).as("m"))
			.select(col("k"), col("m.v").as("v"));
		StructType keySchema = spark.read().json(latest.select("k").as(Encoders.STRING())).schema();
		StructType valueSchema = spark.read().json(latest.select("v").as(Encoders.STRING())).schema();

		Dataset<Row> stream = spark.readStream().format("kafka")
			.option("kafka.bootstrap.servers", bootstrap)
			.option("subscribe", topic)
			.option("startingOffsets", "earliest")
			.load()
			.where("value IS NOT NULL")
			.select(col("key").cast("string").as("kafka_key"),
					col("offset").as("kafka_offset"),
					from_json(col("key").cast("string"), keySchema).as("k"),
					from_json(col("value").cast("string"), valueSchema).as("v"),
					col("timestamp").as("created_at"))
			.select(col("kafka_key"), col("kafka_offset"),
					col("v.payload.op").as("op"),
					col("k.payload.id").cast("bigint").as("id"),
					col("v.payload.after.first_name").as("first_name"),
					col("v.payload.after.last_name").as("last_name"),
					col("v.payload.after.email").as("email"),
					col("created_at"),
					lit(null).cast("timestamp").as("updated_at"));

		stream.writeStream()
			.format("delta")
			.outputMode("append")
			.option("checkpointLocation", table + "/_checkpoints/etl-from-kafka")
			.start(table)
			.awaitTermination();
	}
}
