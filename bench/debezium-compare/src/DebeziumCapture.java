/*
 * DebeziumCapture: Debezium's PostgreSQL connector, embedded, writing each
 * record as a Kafka consumer of a Kafka Connect worker would read it.
 *
 * Key and value go through Kafka Connect's JsonConverter with schemas
 * enabled, headers through SimpleHeaderConverter (a Connect worker's
 * defaults for header.converter).  One JSON line per record on the output
 * file, in the shape kcat -J prints, so that both sides are read alike:
 *   {"topic":T,"key":K|null,"payload":V|null,"headers":[name,value,...]}
 * Lines are flushed per batch; offsets go to a file, so a restart resumes.
 *
 *   java -cp <peer classpath>:<build dir> DebeziumCapture OUTPUT KEY=VALUE...
 *
 * The KEY=VALUE pairs are connector properties (host, port, slot, ...).
 * Runs until SIGTERM, then stops the engine cleanly.
 */
import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
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

public class DebeziumCapture
{
	/* JSON string literal, as Jackson would escape it */
	private static void quote(StringBuilder sb, String s)
	{
		if (s == null)
		{
			sb.append("null");
			return;
		}
		sb.append('"');
		for (int i = 0; i < s.length(); i++)
		{
			char c = s.charAt(i);

			switch (c)
			{
				case '"': sb.append("\\\""); break;
				case '\\': sb.append("\\\\"); break;
				case '\n': sb.append("\\n"); break;
				case '\r': sb.append("\\r"); break;
				case '\t': sb.append("\\t"); break;
				default:
					if (c < 0x20)
						sb.append(String.format("\\u%04x", (int) c));
					else
						sb.append(c);
			}
		}
		sb.append('"');
	}

	private static String utf8(byte[] b)
	{
		return b == null ? null : new String(b, StandardCharsets.UTF_8);
	}

	public static void main(String[] args) throws Exception
	{
		if (args.length < 1)
		{
			System.err.println("usage: DebeziumCapture OUTPUT [KEY=VALUE ...]");
			System.exit(1);
		}
		Properties props = new Properties();
		props.setProperty("name", "debezium-compare");
		props.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
		props.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
		props.setProperty("offset.flush.interval.ms", "0");
		props.setProperty("plugin.name", "pgoutput");
		for (int i = 1; i < args.length; i++)
		{
			int eq = args[i].indexOf('=');

			if (eq < 1)
			{
				System.err.println("DebeziumCapture: \"" + args[i] + "\" is not KEY=VALUE");
				System.exit(1);
			}
			props.setProperty(args[i].substring(0, eq), args[i].substring(eq + 1));
		}

		JsonConverter keys = new JsonConverter();
		JsonConverter values = new JsonConverter();
		SimpleHeaderConverter headers = new SimpleHeaderConverter();
		Map<String, Object> conf = new HashMap<>();

		conf.put("schemas.enable", "true");
		keys.configure(conf, true);
		values.configure(conf, false);
		headers.configure(new HashMap<>());

		BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
			new FileOutputStream(args[0], true), StandardCharsets.UTF_8));

		DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
			DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
				.using(props)
				.notifying((List<RecordChangeEvent<SourceRecord>> records,
							DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) -> {
					for (RecordChangeEvent<SourceRecord> r : records)
					{
						SourceRecord rec = r.record();
						String topic = rec.topic();
						StringBuilder sb = new StringBuilder();

						sb.append("{\"topic\":");
						quote(sb, topic);
						sb.append(",\"key\":");
						quote(sb, utf8(keys.fromConnectData(topic, rec.keySchema(), rec.key())));
						sb.append(",\"payload\":");
						quote(sb, utf8(values.fromConnectData(topic, rec.valueSchema(), rec.value())));
						sb.append(",\"headers\":[");
						boolean first = true;
						for (Header h : rec.headers())
						{
							if (!first)
								sb.append(',');
							first = false;
							quote(sb, h.key());
							sb.append(',');
							quote(sb, utf8(headers.fromConnectHeader(topic, h.key(), h.schema(), h.value())));
						}
						sb.append("]}\n");
						try
						{
							out.write(sb.toString());
						}
						catch (IOException e)
						{
							throw new RuntimeException(e);
						}
						committer.markProcessed(r);
					}
					try
					{
						out.flush();
					}
					catch (IOException e)
					{
						throw new RuntimeException(e);
					}
					committer.markBatchFinished();
				})
				.using((success, message, error) -> {
					if (!success)
					{
						System.err.println("DebeziumCapture: engine stopped: " + message);
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
				out.close();
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
