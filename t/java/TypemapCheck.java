// Checks cdc_kafka's rendering of random values against the Java classes
// Debezium itself uses (BigDecimal, BigInteger, java.time formatters,
// BitSet, Double/Float parsing), following PostgresValueConverter's rules.
// Run by t/020_typemap_java.pl as a single-file program:
//   java TypemapCheck.java SRC PRECISE STRING DOUBLE
// SRC: one line per row, '|'-separated, of the source values as PostgreSQL
// prints them; PRECISE/STRING/DOUBLE: the plugin's events (schemas=false)
// under each decimal-handling mode, one per line.  Prints one
// "RESULT <category> <checked> <mismatches>" line per category and a few
// "# ..." lines describing mismatches.
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.Base64;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class TypemapCheck {
    static final Map<String, int[]> results = new LinkedHashMap<>();
    static final Base64.Encoder B64 = Base64.getEncoder();

    static void check(String category, boolean ok, String detail) {
        int[] r = results.computeIfAbsent(category, k -> new int[2]);
        r[0]++;
        if (!ok) {
            if (r[1] < 5)
                System.out.println("# " + category + ": " + detail);
            r[1]++;
        }
    }

    // The raw JSON text of one column of the "after" row.
    static String col(String line, String name) {
        Matcher m = Pattern.compile("[{,]\"" + name + "\":(\\{[^}]*\\}|\\[[^\\]]*\\]|\"[^\"]*\"|[^,}]*)").matcher(line);
        return m.find() ? m.group(1) : null;
    }

    static String q(String s) { return "\"" + s + "\""; }

    // Same number and the same notation (plain or E) as Java's toString.
    // Java 17's Double.toString sometimes prints a digit more than the
    // shortest form (JDK-4511638, fixed in 19), so digits may differ.
    static boolean sameDouble(String ours, double expected, String javaText) {
        if (ours == null) return false;
        double v = Double.parseDouble(ours);
        return Double.compare(v, expected) == 0 && ours.contains("E") == javaText.contains("E")
                && (ours.contains(".") && javaText.contains("."));
    }

    public static void main(String[] args) throws Exception {
        List<String> src = Files.readAllLines(Path.of(args[0]));
        Map<String, String> precise = byId(Files.readAllLines(Path.of(args[1])));
        Map<String, String> string = byId(Files.readAllLines(Path.of(args[2])));
        Map<String, String> dbl = byId(Files.readAllLines(Path.of(args[3])));
        DateTimeFormatter timetzIn = new DateTimeFormatterBuilder().appendPattern("HH:mm:ss")
                .appendFraction(ChronoField.MICRO_OF_SECOND, 0, 6, true).appendPattern("[XXX][XX][X]").toFormatter();

        for (String row : src) {
            String[] c = row.split("\\|", -1);
            String id = c[0];
            String p = precise.get(id), s = string.get(id), d = dbl.get(id);
            if (p == null || s == null || d == null) {
                check("event", false, "no event for id " + id);
                continue;
            }
            check("event", true, null);

            double f8 = Double.parseDouble(c[1]);
            check("float8", sameDouble(col(p, "f8"), f8, Double.toString(f8)), c[1] + " -> " + col(p, "f8"));
            float f4 = Float.parseFloat(c[2]);
            String o4 = col(p, "f4");
            check("float4", o4 != null && Float.compare(Float.parseFloat(o4), f4) == 0
                    && o4.contains("E") == Float.toString(f4).contains("E"), c[2] + " -> " + o4);

            // numeric(30,4): Decimal bytes at the column's scale
            BigDecimal n = new BigDecimal(c[3]).setScale(4);
            check("numeric_precise", q(B64.encodeToString(n.unscaledValue().toByteArray())).equals(col(p, "n")),
                    c[3] + " -> " + col(p, "n"));
            check("numeric_string", q(n.toString()).equals(col(s, "n")), c[3] + " -> " + col(s, "n"));
            double nd = n.doubleValue();
            check("numeric_double", sameDouble(col(d, "n"), nd, Double.toString(nd)), c[3] + " -> " + col(d, "n"));

            // numeric: VariableScaleDecimal as PostgresValueConverter builds it
            BigDecimal nv = new BigDecimal(c[4]).stripTrailingZeros();
            if (nv.scale() < 0) nv = nv.setScale(0);
            String vsd = "{\"scale\":" + nv.scale() + ",\"value\":" + q(B64.encodeToString(nv.unscaledValue().toByteArray())) + "}";
            check("numeric_variable", vsd.equals(col(p, "nv")), c[4] + " -> " + col(p, "nv") + " expected " + vsd);
            check("numeric_variable_string", q(new BigDecimal(c[4]).toString()).equals(col(s, "nv")),
                    c[4] + " -> " + col(s, "nv"));

            // money: Decimal at scale 2
            BigDecimal m = new BigDecimal(c[5]).setScale(2);
            check("money_precise", q(B64.encodeToString(m.unscaledValue().toByteArray())).equals(col(p, "m")),
                    c[5] + " -> " + col(p, "m"));
            check("money_string", q(m.toPlainString()).equals(col(s, "m")), c[5] + " -> " + col(s, "m"));

            // timestamp: MicroTimestamp
            long tsUs = new BigDecimal(c[6]).movePointRight(6).longValueExact();
            check("timestamp", Long.toString(tsUs).equals(col(p, "ts")), c[6] + " -> " + col(p, "ts"));

            // timestamptz: ZonedTimestamp in UTC, the fraction with the
            // column's precision in digits (6 here), as Debezium 2.2+
            long tzUs = new BigDecimal(c[7]).movePointRight(6).longValueExact();
            Instant inst = Instant.ofEpochSecond(Math.floorDiv(tzUs, 1_000_000L), Math.floorMod(tzUs, 1_000_000L) * 1000L);
            DateTimeFormatter zoned = new DateTimeFormatterBuilder()
                    .append(DateTimeFormatter.ISO_LOCAL_DATE).appendLiteral('T')
                    .appendPattern("HH:mm:ss").appendFraction(ChronoField.NANO_OF_SECOND, 6, 6, true)
                    .appendLiteral('Z').toFormatter();
            String iso = q(OffsetDateTime.ofInstant(inst, ZoneOffset.UTC).format(zoned));
            check("timestamptz", iso.equals(col(p, "tstz")), c[7] + " -> " + col(p, "tstz") + " expected " + iso);

            // date: Date (epoch days)
            check("date", c[8].equals(col(p, "d")), c[8] + " -> " + col(p, "d"));

            // time: MicroTime
            long tmUs = new BigDecimal(c[9]).movePointRight(6).longValueExact();
            check("time", Long.toString(tmUs).equals(col(p, "tm")), c[9] + " -> " + col(p, "tm"));

            // timetz: ZonedTime, parsed as PostgresValueConverter does, in UTC
            String zt = q(OffsetTime.parse(c[10], timetzIn).withOffsetSameInstant(ZoneOffset.UTC)
                    .format(DateTimeFormatter.ISO_OFFSET_TIME));
            check("timetz", zt.equals(col(p, "ttz")), c[10] + " -> " + col(p, "ttz") + " expected " + zt);

            // interval: MicroDuration.durationMicros over PGInterval's fields
            int years = Integer.parseInt(c[11]), months = Integer.parseInt(c[12]), days = Integer.parseInt(c[13]);
            int hours = Integer.parseInt(c[14]), minutes = Integer.parseInt(c[15]);
            double seconds = Double.parseDouble(c[16]);
            double numberOfDays = ((years * 12) + months) * (365.25 / 12.0d) + days;
            double numberOfSeconds = (((numberOfDays * 24 + hours) * 60) + minutes) * 60 + seconds;
            long iv = (long) (numberOfSeconds * 1e6 + 0);
            check("interval", Long.toString(iv).equals(col(p, "iv")), String.join("|", c) + " -> " + col(p, "iv"));

            // varbit: Bits, a BitSet of the string read from the right
            String bits = c[17];
            BitSet bs = new BitSet(bits.length());
            for (int i = bits.length() - 1; i >= 0; i--)
                if (bits.charAt(i) == '1') bs.set(bits.length() - i - 1);
            String vb = q(B64.encodeToString(bs.toByteArray()));
            check("varbit", vb.equals(col(p, "vb")), bits + " -> " + col(p, "vb") + " expected " + vb);

            // uuid: Uuid, the canonical lower-case form
            check("uuid", q(java.util.UUID.fromString(c[18]).toString()).equals(col(p, "u")),
                    c[18] + " -> " + col(p, "u"));
        }
        for (Map.Entry<String, int[]> e : results.entrySet())
            System.out.println("RESULT " + e.getKey() + " " + e.getValue()[0] + " " + e.getValue()[1]);
    }

    static Map<String, String> byId(List<String> lines) {
        Map<String, String> m = new HashMap<>();
        Pattern p = Pattern.compile("\"after\":\\{\"id\":(\\d+)");
        for (String l : lines) {
            Matcher x = p.matcher(l);
            if (x.find()) m.put(x.group(1), l);
        }
        return m;
    }
}
