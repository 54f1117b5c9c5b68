/*
 * DebeziumToKafka: the seed lab's Debezium Server, for bench/lab: Debezium's
 * PostgreSQL connector embedded (bench/common/DebeziumEmbedded.java:
 * pgoutput, JsonConverter with schemas, Debezium Server's defaults), its
 * records produced to Kafka as Debezium Server's Kafka sink does: every
 * record of a batch sent, the batch acknowledged before its offsets are
 * committed.
 *
 *   DebeziumToKafka BOOTSTRAP OFFSET_FILE KEY=VALUE...
 *
 * KEY=VALUE pairs are connector properties (database.hostname, slot.name,
 * topic.prefix, ...).  Runs until SIGTERM.
 */
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.source.SourceRecord;

public class DebeziumToKafka
{
	public static void main(String[] args) throws Exception
	{
		if (args.length < 2)
		{
			System.err.println("usage: DebeziumToKafka BOOTSTRAP OFFSET_FILE [KEY=VALUE ...]");
			System.exit(1);
		}
		Properties props = DebeziumEmbedded.properties("DebeziumToKafka", "lab", args, 2);
		props.setProperty("offset.storage.file.filename", args[1]);

		Properties pp = new Properties();
		pp.setProperty("bootstrap.servers", args[0]);
		pp.setProperty("key.serializer", ByteArraySerializer.class.getName());
		pp.setProperty("value.serializer", ByteArraySerializer.class.getName());
		KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp);

		DebeziumEmbedded.run("DebeziumToKafka", props, new DebeziumEmbedded.Sink()
		{
			public void accept(List<SourceRecord> records) throws Exception
			{
				List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());

				for (SourceRecord r : records)
					sent.add(producer.send(new ProducerRecord<>(r.topic(),
						DebeziumEmbedded.key(r), DebeziumEmbedded.value(r))));
				for (Future<RecordMetadata> f : sent)
					f.get();
			}

			public void close()
			{
				producer.close();
			}
		});
	}
}
