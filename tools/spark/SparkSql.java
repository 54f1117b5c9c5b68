/*
 * SparkSql: runs SQL on Delta tables with Spark and Delta Lake's own log
 * reader (spark.read.format("delta")), in one local[2] JVM, and prints the
 * results as JSON.  scripts/spark-sql.sh builds and runs it; the tests use
 * it to check that Spark reads every table cdc_delta_writer writes.  A table
 * is a directory or an s3a://bucket/key URL (S3 settings: see s3a()).
 *
 *   SparkSql TABLE_DIR SQL...   each SQL runs with the table as view "t";
 *                               one JSON object per row on stdout
 *   SparkSql --batch            reads requests from stdin, one JSON object
 *                               a line: {"table": DIR (optional), "sql": SQL};
 *                               answers each with one line:
 *                               {"rows": [...], "columns": [[name, type], ...]}
 *                               or {"error": MESSAGE}; {"env": {AWS_...: ...}}
 *                               gives the session S3 settings (see s3a())
 *   SparkSql --serve PORTFILE   the same requests over TCP connections to
 *                               127.0.0.1, one session each (its own views
 *                               and settings), so many test files share one
 *                               JVM start; writes the port to PORTFILE once
 *                               it listens, and exits after IDLE seconds
 *                               without a connection (SPARK_IDLE_S, 1800)
 *
 * Values: numbers as JSON numbers (NaN and infinities as strings), decimals
 * as exact strings, binary as base64, dates as YYYY-MM-DD, timestamps as
 * ISO-8601 instants in UTC (2018-06-20T13:13:16.945104Z), structs as
 * objects, arrays as arrays, maps as objects.
 */
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import scala.collection.JavaConverters;

public class SparkSql
{
	private static final JsonNodeFactory F = JsonNodeFactory.instance;
	private static final ObjectMapper M = new ObjectMapper();

	public static void main(String[] args) throws Exception
	{
		if (args.length == 0 || (!args[0].equals("--batch") && args.length < 2))
		{
			System.err.println("usage: SparkSql TABLE_DIR SQL... | SparkSql --batch | SparkSql --serve PORTFILE");
			System.exit(1);
		}
		/* Spark writes to stdout now and then: keep stdout for our JSON. */
		PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out),
										  true, "UTF-8");
		System.setOut(System.err);
		SparkSession spark = session();
		int rc = 0;
		if (args[0].equals("--batch"))
			answer(spark, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), out);
		else if (args[0].equals("--serve"))
			serve(spark, Paths.get(args[1]));
		else
		{
			for (int i = 1; i < args.length; i++)
			{
				try
				{
					for (JsonNode row : run(spark, args[0], args[i]).get("rows"))
						out.println(M.writeValueAsString(row));
				}
				catch (Exception e)
				{
					System.err.println("spark-sql: " + message(e));
					rc = 1;
					break;
				}
			}
		}
		out.flush();
		spark.stop();
		System.exit(rc);
	}

	/* Answers each request line of in with one line on out, until in ends. */
	private static void answer(SparkSession spark, BufferedReader in, PrintStream out) throws IOException
	{
		String line;

		while ((line = in.readLine()) != null)
		{
			if (line.isBlank())
				continue;
			ObjectNode answer;
			try
			{
				JsonNode req = M.readTree(line);
				if (req.has("env"))
					answer = s3aSession(spark, req.get("env"));
				else
				{
					String table = req.hasNonNull("table") ? req.get("table").asText() : null;
					answer = run(spark, table, req.get("sql").asText());
				}
			}
			catch (Exception e)
			{
				answer = F.objectNode();
				answer.put("error", message(e));
			}
			out.println(M.writeValueAsString(answer));
		}
		out.flush();
	}

	/*
	 * Each connection gets a session of its own over the one SparkContext,
	 * on a thread of its own; when it closes, the Delta logs it opened are
	 * dropped from Delta's cache, so a long run holds no table it is done
	 * with.
	 */
	private static void serve(SparkSession spark, Path portFile) throws Exception
	{
		long idleMs = 1000L * Long.parseLong(System.getenv().getOrDefault("SPARK_IDLE_S", "1800"));
		AtomicInteger open = new AtomicInteger();
		AtomicLong lastClose = new AtomicLong(System.currentTimeMillis());
		ServerSocket server = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
		Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");

		Files.write(tmp, (server.getLocalPort() + "\n").getBytes(StandardCharsets.UTF_8));
		Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
		server.setSoTimeout(10000);
		for (;;)
		{
			Socket conn;
			try
			{
				conn = server.accept();
			}
			catch (SocketTimeoutException e)
			{
				if (open.get() == 0 && System.currentTimeMillis() - lastClose.get() > idleMs)
					break;
				continue;
			}
			open.incrementAndGet();
			Thread t = new Thread(() -> {
				try (Socket c = conn)
				{
					answer(spark.newSession(),
						   new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8)),
						   new PrintStream(c.getOutputStream(), true, "UTF-8"));
				}
				catch (IOException e)
				{
					System.err.println("spark-sql: connection: " + message(e));
				}
				finally
				{
					DeltaLog.clearCache();
					lastClose.set(System.currentTimeMillis());
					open.decrementAndGet();
				}
			});
			t.setDaemon(true);
			t.start();
		}
		Files.deleteIfExists(portFile);
	}

	/* A local session with Delta's SQL extension and catalog, UTC, no UI. */
	private static SparkSession session() throws Exception
	{
		String warehouse = Files.createTempDirectory("spark-sql-warehouse").toString();
		SparkSession.Builder b = SparkSession.builder();
		for (Map.Entry<String, String> e : s3a(System.getenv(), false).entrySet())
			b.config("spark.hadoop." + e.getKey(), e.getValue());
		return b
			.appName("cdc_kafka spark-sql")
			.master("local[2]")
			.config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
			.config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
			.config("spark.sql.session.timeZone", "UTC")
			.config("spark.sql.datetime.java8API.enabled", "true")
			.config("spark.sql.shuffle.partitions", "2")
			.config("spark.sql.warehouse.dir", warehouse)
			.config("spark.ui.enabled", "false")
			.config("spark.sql.debug.maxToStringFields", "1000")
			.config("spark.driver.host", "127.0.0.1")
			.config("spark.driver.bindAddress", "127.0.0.1")
			.getOrCreate();
	}

	/*
	 * S3 settings for s3a:// tables (hadoop-aws, scripts/peers/spark35-s3a)
	 * from an environment, read as the AWS tools and cdc_delta_writer read it:
	 * the endpoint and region, path-style requests with an explicit endpoint
	 * (what S3-compatible stores expect), no TLS to an http:// one.  The keys
	 * only with keys: S3A's own default chain reads AWS_ACCESS_KEY_ID,
	 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the JVM's environment,
	 * so they stay out of Spark's configuration (which Spark may print).
	 */
	private static Map<String, String> s3a(Map<String, String> env, boolean keys)
	{
		Map<String, String> conf = new TreeMap<>();
		String endpoint = env(env, "AWS_ENDPOINT_URL_S3", env(env, "AWS_ENDPOINT_URL", null));
		String region = env(env, "AWS_REGION", env(env, "AWS_DEFAULT_REGION", null));

		if (region != null)
			conf.put("fs.s3a.endpoint.region", region);
		if (endpoint != null)
		{
			conf.put("fs.s3a.endpoint", endpoint);
			conf.put("fs.s3a.path.style.access", "true");
			conf.put("fs.s3a.connection.ssl.enabled", String.valueOf(!endpoint.startsWith("http://")));
		}
		if (keys && env(env, "AWS_ACCESS_KEY_ID", null) != null)
		{
			conf.put("fs.s3a.access.key", env.get("AWS_ACCESS_KEY_ID"));
			conf.put("fs.s3a.secret.key", env(env, "AWS_SECRET_ACCESS_KEY", ""));
			if (env(env, "AWS_SESSION_TOKEN", null) != null)
				conf.put("fs.s3a.session.token", env.get("AWS_SESSION_TOKEN"));
		}
		return conf;
	}

	private static String env(Map<String, String> env, String name, String otherwise)
	{
		String v = env.get(name);
		return v == null || v.isEmpty() ? otherwise : v;
	}

	/*
	 * A shared JVM's session takes its client's environment (the JVM's is
	 * that of whoever started it), keys included, as session settings,
	 * which reach Hadoop through the session's Hadoop configuration.  S3A
	 * keeps one file system per bucket for the JVM's life: the first session
	 * to read a bucket sets its endpoint and keys.
	 */
	private static ObjectNode s3aSession(SparkSession spark, JsonNode env)
	{
		Map<String, String> vars = new HashMap<>();
		env.fields().forEachRemaining(e -> vars.put(e.getKey(), e.getValue().asText()));
		for (Map.Entry<String, String> e : s3a(vars, true).entrySet())
			spark.conf().set(e.getKey(), e.getValue());
		ObjectNode answer = F.objectNode();
		answer.putArray("columns");
		answer.putArray("rows");
		return answer;
	}

	/*
	 * Runs one statement; with a table, "t" is a fresh view of its newest
	 * snapshot (a view made earlier would keep an older one).
	 */
	private static ObjectNode run(SparkSession spark, String table, String sql)
	{
		if (table != null)
			spark.read().format("delta").load(table).createOrReplaceTempView("t");
		Dataset<Row> df = spark.sql(sql);
		StructType schema = df.schema();
		ObjectNode answer = F.objectNode();
		ArrayNode columns = answer.putArray("columns");
		for (StructField f : schema.fields())
			columns.addArray().add(f.name()).add(f.dataType().simpleString());
		ArrayNode rows = answer.putArray("rows");
		for (Row r : df.collectAsList())
			rows.add(struct(r, schema));
		return answer;
	}

	private static ObjectNode struct(Row r, StructType schema)
	{
		ObjectNode o = F.objectNode();
		StructField[] fields = schema.fields();
		for (int i = 0; i < fields.length; i++)
			o.set(fields[i].name(), value(r.isNullAt(i) ? null : r.get(i), fields[i].dataType()));
		return o;
	}

	private static JsonNode value(Object v, DataType t)
	{
		if (v == null)
			return F.nullNode();
		if (t instanceof StructType)
			return struct((Row) v, (StructType) t);
		if (t instanceof ArrayType)
		{
			ArrayNode a = F.arrayNode();
			DataType et = ((ArrayType) t).elementType();
			for (Object e : JavaConverters.seqAsJavaList((scala.collection.Seq<?>) v))
				a.add(value(e, et));
			return a;
		}
		if (t instanceof MapType)
		{
			ObjectNode o = F.objectNode();
			DataType vt = ((MapType) t).valueType();
			Map<?, ?> m = JavaConverters.mapAsJavaMap((scala.collection.Map<?, ?>) v);
			for (Map.Entry<?, ?> e : m.entrySet())
				o.set(String.valueOf(e.getKey()), value(e.getValue(), vt));
			return o;
		}
		if (t instanceof DecimalType)
			return F.textNode(((java.math.BigDecimal) v).toPlainString());
		if (t instanceof BinaryType)
			return F.textNode(Base64.getEncoder().encodeToString((byte[]) v));
		if (t instanceof DoubleType || t instanceof FloatType)
		{
			double d = ((Number) v).doubleValue();
			if (Double.isNaN(d) || Double.isInfinite(d))
				return F.textNode(String.valueOf(d));
			return t instanceof FloatType ? F.numberNode((Float) v) : F.numberNode(d);
		}
		if (v instanceof Number)
		{
			if (v instanceof Long)
				return F.numberNode((Long) v);
			return F.numberNode(((Number) v).intValue());
		}
		if (v instanceof Boolean)
			return F.booleanNode((Boolean) v);
		/* String, java.time.Instant and LocalDate (java8API) print ISO. */
		return F.textNode(v.toString());
	}

	private static String message(Throwable e)
	{
		String m = e.getMessage();
		return e.getClass().getSimpleName() + ": " + (m == null ? "" : m.split("\n")[0]);
	}
}
