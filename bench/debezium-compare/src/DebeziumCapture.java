/*
 * DebeziumCapture: Debezium's PostgreSQL connector, embedded
 * (bench/common/DebeziumEmbedded.java), writing each record as a Kafka
 * consumer of a Kafka Connect worker would read it: key and value through
 * JsonConverter with schemas, headers through SimpleHeaderConverter (a
 * Connect worker's defaults).  One JSON line per record on the output
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
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.source.SourceRecord;

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
		Properties props = DebeziumEmbedded.properties("DebeziumCapture", "debezium-compare", args, 1);
		BufferedWriter out = new BufferedWriter(new OutputStreamWriter(
			new FileOutputStream(args[0], true), StandardCharsets.UTF_8));

		DebeziumEmbedded.run("DebeziumCapture", props, new DebeziumEmbedded.Sink()
		{
			public void accept(List<SourceRecord> records) throws Exception
			{
				for (SourceRecord r : records)
				{
					StringBuilder sb = new StringBuilder();

					sb.append("{\"topic\":");
					quote(sb, r.topic());
					sb.append(",\"key\":");
					quote(sb, utf8(DebeziumEmbedded.key(r)));
					sb.append(",\"payload\":");
					quote(sb, utf8(DebeziumEmbedded.value(r)));
					sb.append(",\"headers\":[");
					boolean first = true;
					for (Header h : r.headers())
					{
						if (!first)
							sb.append(',');
						first = false;
						quote(sb, h.key());
						sb.append(',');
						quote(sb, DebeziumEmbedded.header(r, h));
					}
					sb.append("]}\n");
					out.write(sb.toString());
				}
				out.flush();
			}

			public void close() throws Exception
			{
				out.close();
			}
		});
	}
}
