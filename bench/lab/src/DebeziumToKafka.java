/*
 * DebeziumToKafka: the seed lab's Debezium Server, for bench/lab: Debezium's
 * PostgreSQL connector (embedded, plugin.name=pgoutput) whose records go
 * through Kafka Connect's JsonConverter with schemas (Debezium Server's
 * default) and are produced to Kafka as Debezium Server's Kafka sink does:
 * every record of a batch sent, the batch acknowledged before its offsets
 * are committed (offsets in a file, flushed at every batch as the lab's
 * offset.flush.interval.ms=0).
 *
 *   DebeziumToKafka BOOTSTRAP OFFSET_FILE KEY=VALUE...
 *
 * KEY=VALUE pairs are connector properties (database.hostname, slot.name,
 * topic.prefix, ...).  Runs until SIGTERM.
 */
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;

public class DebeziumToKafka
{
	public static void main(String[] args) throws Exception
	{
		if (args.length < 2)
		{
			System.err.println("usage: DebeziumToKafka BOOTSTRAP OFFSET_FILE [KEY=VALUE ...]");
			System.exit(1);
		}
		Properties props = new Properties();
		props.setProperty("name", "lab");
		props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
		props.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
		props.setProperty("offset.storage.file.filename", args[1]);
		props.setProperty("offset.flush.interval.ms", "0");
		props.setProperty("plugin.name", "pgoutput");
		for (int i = 2; i < args.length; i++)
		{
			int eq = args[i].indexOf('=');

			if (eq < 1)
			{
				System.err.println("DebeziumToKafka: \"" + args[i] + "\" is not KEY=VALUE");
				System.exit(1);
			}
			props.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
		}

		JsonConverter keys = new JsonConverter();
		JsonConverter values = new JsonConverter();
		Map<String, Object> conf = new HashMap<>();
		conf.put("schemas.enable", "true");
		keys.configure(conf, true);
		values.configure(conf, false);

		Properties pp = new Properties();
		pp.setProperty("bootstrap.servers", args[0]);
		pp.setProperty("key.serializer", ByteArraySerializer.class.getName());
		pp.setProperty("value.serializer", ByteArraySerializer.class.getName());
		KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);

		DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
			DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
				.using(props)
				.notifying((List<RecordChangeEvent<SourceRecord>> records,
							DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
					List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
					for (RecordChangeEvent<SourceRecord> r : records)
					{
						SourceRecord rec = r.record();
						String topic = rec.topic();
						sent.add(producer.send(new ProducerRecord<>(topic,
							keys.fromConnectData(topic, rec.keySchema(), rec.key()),
							values.fromConnectData(topic, rec.valueSchema(), rec.value()))));
					}
					try
					{
						for (Future<RecordMetadata> f : sent)
							f.get();
					}
					catch (Exception e)
					{
						throw new RuntimeException(e);
					}
					for (RecordChangeEvent<SourceRecord> r : records)
						committer.markProcessed(r);
					committer.markBatchFinished();
				})
				.using((success, message, error) -> {
					if (!success)
					{
						System.err.println("DebeziumToKafka: engine stopped: " + message);
						if (error != null)
							error.printStackTrace();
					}
				})
				.build();

		ExecutorService executor = Executors.newSingleThreadExecutor();
		executor.execute(engine);
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			try
			{
				engine.close();
				executor.shutdown();
				executor.awaitTermination(30, TimeUnit.SECONDS);
				producer.close();
			}
			catch (Exception e)
			{
				e.printStackTrace();
			}
		}));
		executor.shutdown();
		executor.awaitTermination(Long.MAX_VALUE, TimeUnit.DAYS);
	}
}
