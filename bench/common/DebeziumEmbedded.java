/*
 * DebeziumEmbedded: Debezium's PostgreSQL connector, embedded, as the
 * benchmarks and the format comparison run it: plugin.name=pgoutput,
 * offsets in a file flushed at every batch (the seed lab's
 * offset.flush.interval.ms=0), each record's key and value rendered by
 * Kafka Connect's JsonConverter with schemas (a Connect worker's and
 * Debezium Server's default), headers by SimpleHeaderConverter.  The
 * records go to a Sink batch by batch; a batch's offsets are committed
 * once the sink returns.  Runs until SIGTERM, then stops the engine
 * cleanly and closes the sink.
 *
 * Used by bench/debezium-compare (DebeziumCapture: records to a file) and
 * bench/lab (DebeziumToKafka: records to Kafka, as Debezium Server).
 */
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;

public final class DebeziumEmbedded
{
	/* Where the records go. */
	public interface Sink
	{
		/* Takes one batch; its offsets are committed once this returns. */
		void accept(List<SourceRecord> records) throws Exception;

		void close() throws Exception;
	}

	private static final JsonConverter KEYS = new JsonConverter();
	private static final JsonConverter VALUES = new JsonConverter();
	private static final SimpleHeaderConverter HEADERS = new SimpleHeaderConverter();

	static
	{
		Map<String, Object> conf = new HashMap<>();

		conf.put("schemas.enable", "true");
		KEYS.configure(conf, true);
		VALUES.configure(conf, false);
		HEADERS.configure(new HashMap<>());
	}

	private DebeziumEmbedded()
	{
	}

	/* The record's key, value and a header's value as a Connect worker writes them. */
	public static byte[] key(SourceRecord r)
	{
		return KEYS.fromConnectData(r.topic(), r.keySchema(), r.key());
	}

	public static byte[] value(SourceRecord r)
	{
		return VALUES.fromConnectData(r.topic(), r.valueSchema(), r.value());
	}

	public static String header(SourceRecord r, Header h)
	{
		byte[] b = HEADERS.fromConnectHeader(r.topic(), h.key(), h.schema(), h.value());

		return b == null ? null : new String(b, StandardCharsets.UTF_8);
	}

	/*
	 * The connector's properties: the defaults above, then each KEY=VALUE
	 * argument of args from index first on.  A malformed one exits 1,
	 * naming program and argument.
	 */
	public static Properties properties(String program, String name, String[] args, int first)
	{
		Properties props = new Properties();

		props.setProperty("name", name);
		props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
		props.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
		props.setProperty("offset.flush.interval.ms", "0");
		props.setProperty("plugin.name", "pgoutput");
		for (int i = first; i < args.length; i++)
		{
			int eq = args[i].indexOf('=');

			if (eq < 1)
			{
				System.err.println(program + ": \"" + args[i] + "\" is not KEY=VALUE");
				System.exit(1);
			}
			props.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
		}
		return props;
	}

	/* Runs the engine with props into sink until SIGTERM. */
	public static void run(String program, Properties props, Sink sink) throws Exception
	{
		DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
			DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
				.using(props)
				.notifying((List<RecordChangeEvent<SourceRecord>> events,
							DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
					List<SourceRecord> records = new java.util.ArrayList<>(events.size());

					for (RecordChangeEvent<SourceRecord> e : events)
						records.add(e.record());
					try
					{
						sink.accept(records);
					}
					catch (RuntimeException e)
					{
						throw e;
					}
					catch (Exception e)
					{
						throw new RuntimeException(e);
					}
					for (RecordChangeEvent<SourceRecord> e : events)
						committer.markProcessed(e);
					committer.markBatchFinished();
				})
				.using((success, message, error) -> {
					if (!success)
					{
						System.err.println(program + ": engine stopped: " + message);
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
				sink.close();
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
