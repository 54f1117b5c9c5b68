/*-------------------------------------------------------------------------
 * typemap.c
 *	  PostgreSQL types to Debezium 2.x's default Kafka Connect mapping
 *	  (PostgresValueConverter with decimal.handling.mode, adaptive
 *	  time.precision.mode, binary.handling.mode=bytes,
 *	  interval.handling.mode=numeric) rendered as Kafka Connect's
 *	  JsonConverter writes it.
 *
 * typemap_resolve does every catalog lookup once, when relcache.c builds a
 * relation's entry; rendering a value (typemap_append_value) never touches
 * the catalogs, except for an enum label added after the entry was built.
 * Numbers are formatted here, without the type's output function, wherever
 * Debezium's form differs from PostgreSQL's text or the text would cost a
 * parse.  This file knows nothing of envelopes or relations.
 *
 * Choices where Debezium has no usable answer (each also said where made):
 * - float/double NaN and +-Infinity are the JSON strings "NaN", "Infinity",
 *	 "-Infinity": Jackson's default (QUOTE_NON_NUMERIC_NUMBERS) when
 *	 JsonConverter serialises them.
 * - numeric NaN/Infinity under decimal-handling=precise: Debezium stops the
 *	 connector (ConnectException); we emit null instead.
 * - Multi-dimensional arrays are flattened in row-major order, so the value
 *	 always matches the one-level array schema.
 * - Arrays Debezium drops (money[], interval[], xml[], varbit[], ...) are
 *	 emitted as arrays of their element mapping.
 * - Types Debezium drops by default (include.unknown.datatypes=false) are
 *	 emitted as strings holding their text output.
 * - float/double digits are the shortest that round-trip (Java 19+'s
 *	 Double.toString); Java 17 sometimes prints one digit more.  Same value.
 * - timetz fractions drop trailing zeros (ISO_OFFSET_TIME); timestamptz
 *	 fractions have as many digits as the column's precision (Debezium 2.2+).
 * - date +-infinity: PostgreSQL's own int32 sentinels (Debezium's are off).
 * - money: the stored integer at scale 2 (Debezium's money.fraction.digits
 *	 default), whatever lc_monetary says.
 * - hstore: compact JSON in the order of Java's HashMap, as Debezium's
 *	 Jackson writes it (typemap_hstore_java_order).
 * - An enum label added while a relation is cached renders correctly, but
 *	 the cached schema's "allowed" list lacks it until the entry is rebuilt.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "common/shortest_dec.h"
#include "datatype/timestamp.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/catcache.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/geo_decls.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/varbit.h"

#include "jsonbuf.h"
#include "typemap.h"

/* Days per month Debezium uses for MicroDuration (MicroDuration.java). */
#define TYPEMAP_DAYS_PER_MONTH_AVG (365.25 / 12.0)

/* Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01. */
#define TYPEMAP_EPOCH_SHIFT_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/*
 * What Debezium emits for timestamp +-infinity (MicroTimestamp): pgjdbc's
 * PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY read as
 * microseconds (PostgresValueConverter).
 */
#define TYPEMAP_TS_POS_INFINITY INT64CONST(9223372036825200000)
#define TYPEMAP_TS_NEG_INFINITY INT64CONST(-9223372036832400000)

/* money: Debezium's money.fraction.digits default; see typemap_resolve. */
#define TYPEMAP_MONEY_SCALE 2

/* Unbounded varbit: pgjdbc reports its length as Integer.MAX_VALUE. */
#define TYPEMAP_VARBIT_UNBOUNDED 2147483647

static void typemap_append_java_double(StringInfo buf, double v, bool single);

/* ----------------------------------------------------------------
 * Resolution (catalog access allowed)
 * ----------------------------------------------------------------
 */

static void
typemap_set_schema(CdcType *t, const char *head, const char *tail)
{
	t->schema_head = pstrdup(head);
	t->schema_tail = pstrdup(tail);
}

/* Same as typemap_set_schema, tail given as name/version/parameters. */
static void
typemap_set_named(CdcType *t, const char *head, const char *name,
				  const char *params)
{
	StringInfoData tail;

	initStringInfo(&tail);
	appendStringInfoString(&tail, ",\"name\":");
	jsonbuf_append_cstring(&tail, name);
	appendStringInfoString(&tail, ",\"version\":1");
	if (params != NULL)
		appendStringInfo(&tail, ",\"parameters\":%s", params);
	t->schema_head = pstrdup(head);
	t->schema_tail = tail.data;
}

/* pg_type.typname (NULL if unknown) and its namespace */
static char *
typemap_type_name(Oid typid, Oid *nsp)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Form_pg_type typ;
	char	   *name;

	*nsp = InvalidOid;
	if (!HeapTupleIsValid(tup))
		return NULL;
	typ = (Form_pg_type) GETSTRUCT(tup);
	name = pstrdup(NameStr(typ->typname));
	*nsp = typ->typnamespace;
	ReleaseSysCache(tup);
	return name;
}

/*
 * hstore (an extension type): Debezium's default hstore.handling.mode=json
 * sends it as an io.debezium.data.Json string.  The extension's own
 * hstore_to_json(hstore), from the type's schema, does the conversion; it
 * is looked up here so that rendering needs no catalog access.  Without it
 * the column stays a plain string of hstore's text form.
 */
static bool
typemap_resolve_hstore(CdcType *t, Oid nsp)
{
	char	   *nspname = get_namespace_name(nsp);
	Oid			argtype = t->typid;
	Oid			fn;

	if (nspname == NULL)
		return false;
	fn = LookupFuncName(list_make2(makeString(nspname),
								   makeString("hstore_to_json")),
						1, &argtype, true);
	if (!OidIsValid(fn) || get_func_rettype(fn) != JSONOID)
		return false;
	t->kind = CDC_TYPE_JSON;
	fmgr_info_cxt(fn, &t->outfunc, CurrentMemoryContext);
	typemap_set_named(t, "\"type\":\"string\"", "io.debezium.data.Json", NULL);
	return true;
}

static int
numeric_typmod_precision(int32 typmod)
{
	return ((typmod - VARHDRSZ) >> 16) & 0xffff;
}

/* Scale may be negative since PostgreSQL 15 (numeric(5,-2)). */
static int
numeric_typmod_scale(int32 typmod)
{
	return (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
}

typedef struct TypemapEnumLabel
{
	Oid			oid;
	float4		sortorder;
	char	   *label;
} TypemapEnumLabel;

static int
typemap_cmp_sortorder(const void *a, const void *b)
{
	float4		x = ((const TypemapEnumLabel *) a)->sortorder;
	float4		y = ((const TypemapEnumLabel *) b)->sortorder;

	return (x > y) - (x < y);
}

static int
typemap_cmp_oid(const void *a, const void *b)
{
	Oid			x = ((const TypemapEnumLabel *) a)->oid;
	Oid			y = ((const TypemapEnumLabel *) b)->oid;

	return (x > y) - (x < y);
}

/*
 * io.debezium.data.Enum with parameters {"allowed":"a,b,c"} (labels in
 * their sort order, joined with commas as Debezium does, unescaped), plus
 * the OID-sorted lookup table used to render values.
 */
static void
typemap_resolve_enum(CdcType *t, Oid typid)
{
	CatCList   *list;
	TypemapEnumLabel *labels;
	StringInfoData allowed;
	StringInfoData params;
	int			n;
	int			i;

	list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	n = list->n_members;
	labels = palloc(sizeof(TypemapEnumLabel) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);

		labels[i].oid = en->oid;
		labels[i].sortorder = en->enumsortorder;
		labels[i].label = pstrdup(NameStr(en->enumlabel));
	}
	ReleaseSysCacheList(list);

	qsort(labels, n, sizeof(TypemapEnumLabel), typemap_cmp_sortorder);
	initStringInfo(&allowed);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&allowed, ',');
		appendStringInfoString(&allowed, labels[i].label);
	}
	initStringInfo(&params);
	appendStringInfoString(&params, "{\"allowed\":");
	jsonbuf_append_cstring(&params, allowed.data);
	appendStringInfoChar(&params, '}');
	typemap_set_named(t, "\"type\":\"string\"", "io.debezium.data.Enum",
					  params.data);

	qsort(labels, n, sizeof(TypemapEnumLabel), typemap_cmp_oid);
	t->nlabels = n;
	t->label_oids = palloc(sizeof(Oid) * Max(n, 1));
	t->label_json = palloc(sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		t->label_oids[i] = labels[i].oid;
		t->label_json[i] = jsonbuf_quote(labels[i].label);
	}
}

static void
typemap_resolve_numeric(CdcType *t)
{
	switch (t->decimal_handling)
	{
		case CDC_DECIMAL_DOUBLE:
			typemap_set_schema(t, "\"type\":\"double\"", "");
			break;
		case CDC_DECIMAL_STRING:
			typemap_set_schema(t, "\"type\":\"string\"", "");
			break;
		case CDC_DECIMAL_PRECISE:
			if (t->typmod >= (int32) VARHDRSZ)
			{
				char		params[96];

				snprintf(params, sizeof(params),
						 "{\"scale\":\"%d\",\"connect.decimal.precision\":\"%d\"}",
						 numeric_typmod_scale(t->typmod),
						 numeric_typmod_precision(t->typmod));
				typemap_set_named(t, "\"type\":\"bytes\"",
								  "org.apache.kafka.connect.data.Decimal",
								  params);
			}
			else
			{
				/* VariableScaleDecimal.builder(), including its doc */
				typemap_set_schema(t,
								   "\"type\":\"struct\",\"fields\":["
								   "{\"type\":\"int32\",\"optional\":false,\"field\":\"scale\"},"
								   "{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}]",
								   ",\"name\":\"io.debezium.data.VariableScaleDecimal\","
								   "\"version\":1,\"doc\":\"Variable scaled decimal\"");
			}
			break;
	}
}

static void
typemap_resolve_array(CdcType *t, Oid elemtype, const CdcOptions *opts)
{
	StringInfoData head;
	CdcType    *elem = palloc0(sizeof(CdcType));

	/* The column's typmod applies to the elements (numeric(10,2)[]). */
	typemap_resolve(elem, elemtype, t->typmod, opts);
	t->elem = elem;

	initStringInfo(&head);
	appendStringInfoString(&head, "\"type\":\"array\",\"items\":");

	/*
	 * Debezium makes every element schema optional, except for enum arrays
	 * (SchemaBuilder.array(Enum.builder(...)) without .optional()).
	 */
	typemap_append_schema(&head, elem, elem->kind != CDC_TYPE_ENUM, NULL, NULL);
	t->schema_head = head.data;
	t->schema_tail = pstrdup("");
}

void
typemap_resolve(CdcType *t, Oid typid, int32 typmod, const CdcOptions *opts)
{
	int32		basetypmod = typmod;
	Oid			base;
	Oid			outfn;
	bool		isvarlena;

	memset(t, 0, sizeof(CdcType));

	/* Domains are published as their base type, as Debezium does. */
	base = getBaseTypeAndTypmod(typid, &basetypmod);
	t->typid = base;
	t->typmod = basetypmod;
	t->decimal_handling = opts->decimal_handling;
	get_typlenbyvalalign(base, &t->typlen, &t->typbyval, &t->typalign);
	getTypeOutputInfo(base, &outfn, &isvarlena);
	fmgr_info_cxt(outfn, &t->outfunc, CurrentMemoryContext);

	switch (base)
	{
		case BOOLOID:
			t->kind = CDC_TYPE_BOOL;
			typemap_set_schema(t, "\"type\":\"boolean\"", "");
			break;
		case INT2OID:
			t->kind = CDC_TYPE_INT16;
			typemap_set_schema(t, "\"type\":\"int16\"", "");
			break;
		case INT4OID:
			t->kind = CDC_TYPE_INT32;
			typemap_set_schema(t, "\"type\":\"int32\"", "");
			break;
		case INT8OID:
		case OIDOID:
			t->kind = CDC_TYPE_INT64;
			typemap_set_schema(t, "\"type\":\"int64\"", "");
			break;
		case FLOAT4OID:
			t->kind = CDC_TYPE_FLOAT4;
			typemap_set_schema(t, "\"type\":\"float\"", "");
			break;
		case FLOAT8OID:
			t->kind = CDC_TYPE_FLOAT8;
			typemap_set_schema(t, "\"type\":\"double\"", "");
			break;
		case NUMERICOID:
			t->kind = CDC_TYPE_NUMERIC;
			typemap_resolve_numeric(t);
			break;
		case CASHOID:

			/*
			 * Debezium scales money by money.fraction.digits (default 2);
			 * cash is stored in units of lc_monetary's fraction digits,
			 * which are 2 for the C locale and most currencies.  We take
			 * the stored integer as the unscaled value at scale 2.
			 */
			t->kind = CDC_TYPE_MONEY;
			if (t->decimal_handling == CDC_DECIMAL_PRECISE)
				typemap_set_named(t, "\"type\":\"bytes\"",
								  "org.apache.kafka.connect.data.Decimal",
								  "{\"scale\":\"2\"}");
			else if (t->decimal_handling == CDC_DECIMAL_DOUBLE)
				typemap_set_schema(t, "\"type\":\"double\"", "");
			else
				typemap_set_schema(t, "\"type\":\"string\"", "");
			break;
		case BYTEAOID:
			t->kind = CDC_TYPE_BYTEA;
			typemap_set_schema(t, "\"type\":\"bytes\"", "");
			break;
		case BITOID:
		case VARBITOID:
			t->kind = CDC_TYPE_BITS;
			if (t->typmod <= 0 && base == VARBITOID)
				t->typmod = TYPEMAP_VARBIT_UNBOUNDED;
			else if (t->typmod <= 0)
				t->typmod = 1;	/* "bit" is bit(1) */
			if (t->typmod == 1)
				typemap_set_schema(t, "\"type\":\"boolean\"", "");
			else
			{
				char		params[48];

				snprintf(params, sizeof(params), "{\"length\":\"%d\"}",
						 t->typmod);
				typemap_set_named(t, "\"type\":\"bytes\"",
								  "io.debezium.data.Bits", params);
			}
			break;
		case DATEOID:
			t->kind = CDC_TYPE_DATE;
			typemap_set_named(t, "\"type\":\"int32\"",
							  "io.debezium.time.Date", NULL);
			break;
		case TIMEOID:
			/* adaptive: time(0..3) in ms, else in us */
			t->kind = CDC_TYPE_TIME;
			if (t->typmod >= 0 && t->typmod <= 3)
				typemap_set_named(t, "\"type\":\"int32\"",
								  "io.debezium.time.Time", NULL);
			else
				typemap_set_named(t, "\"type\":\"int64\"",
								  "io.debezium.time.MicroTime", NULL);
			break;
		case TIMETZOID:
			t->kind = CDC_TYPE_TIMETZ;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.time.ZonedTime", NULL);
			break;
		case TIMESTAMPOID:
			t->kind = CDC_TYPE_TIMESTAMP;
			if (t->typmod >= 0 && t->typmod <= 3)
				typemap_set_named(t, "\"type\":\"int64\"",
								  "io.debezium.time.Timestamp", NULL);
			else
				typemap_set_named(t, "\"type\":\"int64\"",
								  "io.debezium.time.MicroTimestamp", NULL);
			break;
		case TIMESTAMPTZOID:
			t->kind = CDC_TYPE_TIMESTAMPTZ;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.time.ZonedTimestamp", NULL);
			break;
		case INTERVALOID:
			t->kind = CDC_TYPE_INTERVAL;
			typemap_set_named(t, "\"type\":\"int64\"",
							  "io.debezium.time.MicroDuration", NULL);
			break;
		case UUIDOID:
			t->kind = CDC_TYPE_UUID;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.data.Uuid", NULL);
			break;
		case JSONOID:
			t->kind = CDC_TYPE_JSON;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.data.Json", NULL);
			break;
		case JSONBOID:
			t->kind = CDC_TYPE_JSONB;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.data.Json", NULL);
			break;
		case POINTOID:
			/* Point.builder(): x, y, wkb, srid, with its doc */
			t->kind = CDC_TYPE_POINT;
			typemap_set_schema(t,
							   "\"type\":\"struct\",\"fields\":["
							   "{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
							   "{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
							   "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
							   "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]",
							   ",\"name\":\"io.debezium.data.geometry.Point\","
							   "\"version\":1,\"doc\":\"Geometry (POINT)\"");
			break;
		case XMLOID:
			t->kind = CDC_TYPE_XML;
			typemap_set_named(t, "\"type\":\"string\"",
							  "io.debezium.data.Xml", NULL);
			break;
		default:
			{
				Oid			elemtype = get_element_type(base);

				if (get_typtype(base) == TYPTYPE_ENUM)
				{
					t->kind = CDC_TYPE_ENUM;
					typemap_resolve_enum(t, base);
				}
				else if (OidIsValid(elemtype) && t->typlen == -1)
				{
					t->kind = CDC_TYPE_ARRAY;
					typemap_resolve_array(t, elemtype, opts);
				}
				else
				{
					Oid			nsp;
					char	   *name = typemap_type_name(base, &nsp);

					/*
					 * Everything else is its text output.  Extension types
					 * are known by name: ltree carries Debezium's semantic
					 * name, hstore becomes JSON.
					 */
					t->kind = CDC_TYPE_TEXT;
					if (name != NULL && strcmp(name, "hstore") == 0 &&
						typemap_resolve_hstore(t, nsp))
						break;
					if (name != NULL && strcmp(name, "ltree") == 0)
						typemap_set_named(t, "\"type\":\"string\"",
										  "io.debezium.data.Ltree", NULL);
					else
						typemap_set_schema(t, "\"type\":\"string\"", "");
				}
			}
			break;
	}
}

/* ----------------------------------------------------------------
 * Schema
 * ----------------------------------------------------------------
 */

/*
 * Kafka Connect's JsonConverter.asJsonSchema writes "type", then "items" or
 * "fields", then "optional", "name", "version", "doc", "parameters",
 * "default"; the struct that holds the field appends "field" last.
 */
void
typemap_append_schema(StringInfo buf, const CdcType *t, bool optional,
					  const char *default_json, const char *field_json)
{
	appendStringInfoChar(buf, '{');
	appendStringInfoString(buf, t->schema_head);
	if (optional)
		appendStringInfoString(buf, ",\"optional\":true");
	else
		appendStringInfoString(buf, ",\"optional\":false");
	appendStringInfoString(buf, t->schema_tail);
	if (default_json != NULL)
	{
		appendStringInfoString(buf, ",\"default\":");
		appendStringInfoString(buf, default_json);
	}
	if (field_json != NULL)
	{
		appendStringInfoString(buf, ",\"field\":");
		appendStringInfoString(buf, field_json);
	}
	appendStringInfoChar(buf, '}');
}

/* ----------------------------------------------------------------
 * Value helpers (no catalog access from here on)
 * ----------------------------------------------------------------
 */

static inline void
typemap_append_int32(StringInfo buf, int32 v)
{
	/* pg_ltoa writes at most 11 characters and a NUL */
	enlargeStringInfo(buf, 12);
	buf->len += pg_ltoa(v, buf->data + buf->len);
}

static inline void
typemap_append_int64(StringInfo buf, int64 v)
{
	enlargeStringInfo(buf, MAXINT8LEN + 1);
	buf->len += pg_lltoa(v, buf->data + buf->len);
}

/* Append v as exactly ndigits decimal digits (v >= 0). */
static inline void
typemap_append_digits(StringInfo buf, int64 v, int ndigits)
{
	char	   *p;

	enlargeStringInfo(buf, ndigits);
	p = buf->data + buf->len + ndigits;
	buf->len += ndigits;
	buf->data[buf->len] = '\0';
	while (ndigits-- > 0)
	{
		*--p = '0' + (v % 10);
		v /= 10;
	}
}

/*
 * Java's Double.toString / Float.toString layout (what Jackson writes for
 * a Connect float64/float32) around the shortest round-tripping digits:
 * plain notation with at least one fraction digit for 1e-3 <= |v| < 1e7
 * ("100.0", "0.001"), else "d.dddE<exp>" ("1.0E7", "1.5E-5").  -0.0 stays
 * "-0.0".  NaN and infinities are quoted, as Jackson does by default.
 */
static void
typemap_append_java_double(StringInfo buf, double v, bool single)
{
	char		tmp[40];
	char		digits[40];
	int			len;
	int			nd = 0;
	int			pointpos = -1;
	int			exp10 = 0;
	int			lead = 0;
	int			e;
	int			i;

	if (isnan(v))
	{
		appendStringInfoString(buf, "\"NaN\"");
		return;
	}
	if (isinf(v))
	{
		appendStringInfoString(buf, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		return;
	}
	if (v == 0)
	{
		appendStringInfoString(buf, signbit(v) ? "-0.0" : "0.0");
		return;
	}

	if (single)
		len = float_to_shortest_decimal_bufn((float) v, tmp);
	else
		len = double_to_shortest_decimal_bufn(v, tmp);
	tmp[len] = '\0';

	/* Split PostgreSQL's form ("-123.45", "1.5e-05") into digits/exponent */
	i = 0;
	if (tmp[0] == '-')
	{
		appendStringInfoChar(buf, '-');
		i++;
	}
	for (; i < len && tmp[i] != 'e'; i++)
	{
		if (tmp[i] == '.')
			pointpos = nd;
		else
			digits[nd++] = tmp[i];
	}
	if (pointpos < 0)
		pointpos = nd;
	if (i < len)
		exp10 = atoi(tmp + i + 1);
	while (lead < nd && digits[lead] == '0')
		lead++;
	memmove(digits, digits + lead, nd - lead);
	nd -= lead;
	pointpos -= lead;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	/* v = 0.d1d2... * 10^(pointpos + exp10) = d1.d2... * 10^e */
	e = pointpos - 1 + exp10;

	/*
	 * Java writes at least two significant digits, the two closest to the
	 * value: where one digit is the shortest, the closest two differ from
	 * "d.0" only for the smallest subnormals (Float.MIN_VALUE is 1.4E-45).
	 */
	if (nd == 1)
	{
		char		two[32];

		snprintf(two, sizeof(two), "%.1e", fabs(v));
		digits[0] = two[0];
		digits[1] = two[2];
		nd = two[2] == '0' ? 1 : 2;
		e = atoi(two + 4);
	}

	if (e >= 0 && e < 7)
	{
		int			intlen = e + 1;

		for (i = 0; i < intlen; i++)
			appendStringInfoChar(buf, i < nd ? digits[i] : '0');
		appendStringInfoChar(buf, '.');
		if (nd > intlen)
			appendBinaryStringInfo(buf, digits + intlen, nd - intlen);
		else
			appendStringInfoChar(buf, '0');
	}
	else if (e < 0 && e >= -3)
	{
		appendStringInfoString(buf, "0.");
		for (i = 0; i < -e - 1; i++)
			appendStringInfoChar(buf, '0');
		appendBinaryStringInfo(buf, digits, nd);
	}
	else
	{
		appendStringInfoChar(buf, digits[0]);
		appendStringInfoChar(buf, '.');
		if (nd > 1)
			appendBinaryStringInfo(buf, digits + 1, nd - 1);
		else
			appendStringInfoChar(buf, '0');
		appendStringInfo(buf, "E%d", e);
	}
}

/*
 * Base64 of the minimal big-endian two's complement form of an integer,
 * as Java's BigInteger.toByteArray() (0 is one zero byte).
 */
static void
typemap_append_twos_bytes(StringInfo buf, unsigned char *b, int n)
{
	int			start = 0;

	while (n - start > 1 &&
		   ((b[start] == 0x00 && (b[start + 1] & 0x80) == 0) ||
			(b[start] == 0xff && (b[start + 1] & 0x80) != 0)))
		start++;
	jsonbuf_append_base64(buf, (const char *) b + start, n - start);
}

static void
typemap_append_int64_bytes(StringInfo buf, int64 v)
{
	unsigned char b[8];
	uint64		u = (uint64) v;
	int			i;

	for (i = 7; i >= 0; i--)
	{
		b[i] = (unsigned char) (u & 0xff);
		u >>= 8;
	}
	typemap_append_twos_bytes(buf, b, 8);
}

/*
 * An unscaled decimal integer given as a digit string (no sign, may have
 * leading zeros) as Decimal bytes.  Up to 18 digits fit an int64; longer
 * ones (numeric allows 1000 digits with a typmod, more without) go through
 * base-2^32 limbs, 9 digits at a time.
 */
static void
typemap_append_unscaled(StringInfo buf, bool neg, const char *digits, int nd)
{
	uint32	   *limbs;
	int			nlimbs = 0;
	int			nbytes;
	unsigned char *b;
	int			i;
	int			j;

	if (nd <= 18)
	{
		int64		v = 0;

		for (i = 0; i < nd; i++)
			v = v * 10 + (digits[i] - '0');
		typemap_append_int64_bytes(buf, neg ? -v : v);
		return;
	}

	limbs = palloc0(sizeof(uint32) * (nd / 9 + 2));
	for (i = 0; i < nd;)
	{
		int			k = Min(9, nd - i);
		uint32		chunk = 0;
		uint32		mul = 1;
		uint64		carry;

		for (j = 0; j < k; j++)
		{
			chunk = chunk * 10 + (digits[i + j] - '0');
			mul *= 10;
		}
		i += k;
		carry = chunk;
		for (j = 0; j < nlimbs; j++)
		{
			uint64		x = (uint64) limbs[j] * mul + carry;

			limbs[j] = (uint32) x;
			carry = x >> 32;
		}
		if (carry != 0)
			limbs[nlimbs++] = (uint32) carry;
	}

	/* one spare leading byte for the sign */
	nbytes = nlimbs * 4 + 1;
	b = palloc0(nbytes);
	for (j = 0; j < nlimbs; j++)
	{
		b[nbytes - 1 - 4 * j] = limbs[j] & 0xff;
		b[nbytes - 2 - 4 * j] = (limbs[j] >> 8) & 0xff;
		b[nbytes - 3 - 4 * j] = (limbs[j] >> 16) & 0xff;
		b[nbytes - 4 - 4 * j] = (limbs[j] >> 24) & 0xff;
	}
	if (neg)
	{
		int			carry = 1;

		for (j = nbytes - 1; j >= 0; j--)
		{
			int			x = (unsigned char) ~b[j] + carry;

			b[j] = x & 0xff;
			carry = x >> 8;
		}
	}
	typemap_append_twos_bytes(buf, b, nbytes);
	pfree(b);
	pfree(limbs);
}

/* A numeric's text split into sign, all its digits and its scale. */
typedef struct TypemapDecimal
{
	bool		neg;
	char	   *digits;			/* palloc'd, no leading zeros but "0" */
	int			nd;
	int			scale;			/* digits after the decimal point */
} TypemapDecimal;

/*
 * Parse numeric_out's text (never exponent form).  With a target scale
 * (Decimal schema), the value is brought to it as BigDecimal.setScale
 * would; a column's values already have exactly that scale.
 */
static void
typemap_parse_decimal(const char *s, bool rescale, int target,
					  TypemapDecimal *d)
{
	int			len = strlen(s);
	int			i;
	int			lead;

	d->digits = palloc(len + Max(target, 0) + 2);
	d->nd = 0;
	d->scale = 0;
	d->neg = false;
	i = 0;
	if (s[0] == '-')
	{
		d->neg = true;
		i++;
	}
	for (; i < len; i++)
	{
		if (s[i] == '.')
			d->scale = len - i - 1;
		else
			d->digits[d->nd++] = s[i];
	}

	if (rescale)
	{
		while (d->scale < target)
		{
			d->digits[d->nd++] = '0';
			d->scale++;
		}
		while (d->scale > target && d->nd > 0)
		{
			d->nd--;
			d->scale--;
		}
	}

	lead = 0;
	while (lead < d->nd - 1 && d->digits[lead] == '0')
		lead++;
	if (d->nd == 0)
	{
		d->digits[0] = '0';
		d->nd = 1;
		lead = 0;
	}
	memmove(d->digits, d->digits + lead, d->nd - lead);
	d->nd -= lead;
	d->digits[d->nd] = '\0';
	if (d->nd == 1 && d->digits[0] == '0')
		d->neg = false;
}

/* Java's BigDecimal.toString() of unscaled digits and scale. */
static void
typemap_append_bigdecimal_string(StringInfo buf, const TypemapDecimal *d)
{
	int			adjusted = -d->scale + (d->nd - 1);
	int			i;

	appendStringInfoChar(buf, '"');
	if (d->neg)
		appendStringInfoChar(buf, '-');
	if (d->scale >= 0 && adjusted >= -6)
	{
		if (d->scale == 0)
			appendBinaryStringInfo(buf, d->digits, d->nd);
		else if (d->nd > d->scale)
		{
			appendBinaryStringInfo(buf, d->digits, d->nd - d->scale);
			appendStringInfoChar(buf, '.');
			appendBinaryStringInfo(buf, d->digits + d->nd - d->scale,
								   d->scale);
		}
		else
		{
			appendStringInfoString(buf, "0.");
			for (i = 0; i < d->scale - d->nd; i++)
				appendStringInfoChar(buf, '0');
			appendBinaryStringInfo(buf, d->digits, d->nd);
		}
	}
	else
	{
		appendStringInfoChar(buf, d->digits[0]);
		if (d->nd > 1)
		{
			appendStringInfoChar(buf, '.');
			appendBinaryStringInfo(buf, d->digits + 1, d->nd - 1);
		}
		if (adjusted != 0)
			appendStringInfo(buf, "E%s%d", adjusted > 0 ? "+" : "", adjusted);
	}
	appendStringInfoChar(buf, '"');
}

static void
typemap_append_numeric(StringInfo buf, const CdcType *t, Datum value)
{
	Numeric		num = DatumGetNumeric(value);
	bool		special = numeric_is_nan(num) || numeric_is_inf(num);
	TypemapDecimal d;
	char	   *text;

	if (t->decimal_handling == CDC_DECIMAL_DOUBLE)
	{
		double		v = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
														   NumericGetDatum(num)));

		typemap_append_java_double(buf, v, false);
		return;
	}

	text = DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(num)));
	if (special)
	{
		/*
		 * string: SpecialValueDecimal's enum names.  precise: Debezium
		 * fails the connector; null keeps the stream going.
		 */
		if (t->decimal_handling != CDC_DECIMAL_STRING)
			appendStringInfoString(buf, "null");
		else if (numeric_is_nan(num))
			appendStringInfoString(buf, "\"NAN\"");
		else if (text[0] == '-')
			appendStringInfoString(buf, "\"NEGATIVE_INFINITY\"");
		else
			appendStringInfoString(buf, "\"POSITIVE_INFINITY\"");
		pfree(text);
		return;
	}
	if (t->decimal_handling == CDC_DECIMAL_STRING)
	{
		bool		fixed = t->typmod >= (int32) VARHDRSZ;

		typemap_parse_decimal(text, fixed,
							  fixed ? numeric_typmod_scale(t->typmod) : 0, &d);
		typemap_append_bigdecimal_string(buf, &d);
	}
	else if (t->typmod >= (int32) VARHDRSZ)
	{
		typemap_parse_decimal(text, true, numeric_typmod_scale(t->typmod), &d);
		typemap_append_unscaled(buf, d.neg, d.digits, d.nd);
	}
	else
	{
		/*
		 * VariableScaleDecimal: stripTrailingZeros(), then a negative scale
		 * back to 0, i.e. only fraction zeros go.
		 */
		typemap_parse_decimal(text, false, 0, &d);
		while (d.scale > 0 && d.nd > 1 && d.digits[d.nd - 1] == '0')
		{
			d.nd--;
			d.scale--;
		}
		if (d.nd == 1 && d.digits[0] == '0')
			d.scale = 0;
		appendStringInfoString(buf, "{\"scale\":");
		typemap_append_int32(buf, d.scale);
		appendStringInfoString(buf, ",\"value\":");
		typemap_append_unscaled(buf, d.neg, d.digits, d.nd);
		appendStringInfoChar(buf, '}');
	}
	pfree(d.digits);
	pfree(text);
}

static void
typemap_append_money(StringInfo buf, const CdcType *t, Cash cash)
{
	switch (t->decimal_handling)
	{
		case CDC_DECIMAL_PRECISE:
			typemap_append_int64_bytes(buf, cash);
			break;
		case CDC_DECIMAL_DOUBLE:
			typemap_append_java_double(buf, (double) cash / 100.0, false);
			break;
		case CDC_DECIMAL_STRING:
			{
				/* BigDecimal.toPlainString() at scale 2 */
				uint64		u = cash < 0 ? -(uint64) cash : (uint64) cash;

				appendStringInfoChar(buf, '"');
				if (cash < 0)
					appendStringInfoChar(buf, '-');
				appendStringInfo(buf, UINT64_FORMAT ".", u / 100);
				typemap_append_digits(buf, u % 100, TYPEMAP_MONEY_SCALE);
				appendStringInfoChar(buf, '"');
			}
			break;
	}
}

/*
 * io.debezium.data.Bits: Debezium builds a java.util.BitSet whose bit i is
 * the i-th bit from the right of the bit string and sends
 * BitSet.toByteArray(): little-endian, trailing zero bytes dropped.
 */
static void
typemap_append_bits(StringInfo buf, const CdcType *t, Datum value)
{
	VarBit	   *vb = DatumGetVarBitP(value);
	int			bitlen = VARBITLEN(vb);
	bits8	   *src = VARBITS(vb);
	unsigned char *out;
	int			nbytes;
	int			i;

	if (t->typmod == 1)
	{
		bool		any = false;

		for (i = 0; i < VARBITBYTES(vb); i++)
			any |= (src[i] != 0);
		appendStringInfoString(buf, any ? "true" : "false");
		return;
	}

	out = palloc0((bitlen + 7) / 8 + 1);
	nbytes = 0;
	for (i = 0; i < bitlen; i++)
	{
		int			p = bitlen - 1 - i; /* position in the string */

		if ((src[p / 8] >> (7 - p % 8)) & 1)
		{
			out[i / 8] |= (unsigned char) (1 << (i % 8));
			nbytes = i / 8 + 1;
		}
	}
	jsonbuf_append_base64(buf, (const char *) out, nbytes);
	pfree(out);
}

static int64
pow10_int64(int n)
{
	int64		r = 1;

	while (n-- > 0)
		r *= 10;
	return r;
}

/* HH:MM:SS[.ffffff without trailing zeros], ISO_LOCAL_TIME's output */
static void
typemap_append_time_of_day(StringInfo buf, int64 us)
{
	int64		secs = us / USECS_PER_SEC;
	int64		frac = us % USECS_PER_SEC;
	int			fd = 6;

	typemap_append_digits(buf, secs / 3600, 2);
	appendStringInfoChar(buf, ':');
	typemap_append_digits(buf, (secs / 60) % 60, 2);
	appendStringInfoChar(buf, ':');
	typemap_append_digits(buf, secs % 60, 2);
	if (frac != 0)
	{
		while (frac % 10 == 0)
		{
			frac /= 10;
			fd--;
		}
		appendStringInfoChar(buf, '.');
		typemap_append_digits(buf, frac, fd);
	}
}

/* Fraction digits of a timestamptz column: its precision, 6 by default. */
static int
typemap_tstz_digits(const CdcType *t)
{
	return t->typmod >= 0 && t->typmod <= MAX_TIMESTAMP_PRECISION ?
		t->typmod : MAX_TIMESTAMP_PRECISION;
}

/*
 * io.debezium.time.ZonedTimestamp: the instant in UTC, e.g.
 * "2024-01-02T03:04:05.120000Z", the fraction with as many digits as the
 * column's precision (none for timestamptz(0)), as Debezium 2.2+ formats it.
 */
static void
typemap_append_timestamptz(StringInfo buf, TimestampTz ts, int digits)
{
	int64		date = ts / USECS_PER_DAY;
	int64		time = ts % USECS_PER_DAY;
	int			year;
	int			month;
	int			day;

	if (TIMESTAMP_IS_NOBEGIN(ts))
	{
		appendStringInfoString(buf, "\"-infinity\"");
		return;
	}
	if (TIMESTAMP_IS_NOEND(ts))
	{
		appendStringInfoString(buf, "\"infinity\"");
		return;
	}
	if (time < 0)
	{
		time += USECS_PER_DAY;
		date--;
	}
	j2date((int) (date + POSTGRES_EPOCH_JDATE), &year, &month, &day);

	appendStringInfoChar(buf, '"');
	/* ISO year: at least 4 digits, sign when negative or above 9999 */
	if (year > 9999)
		appendStringInfoChar(buf, '+');
	else if (year < 0)
		appendStringInfoChar(buf, '-');
	{
		int64		y = year < 0 ? -(int64) year : year;
		int			ndigits = 4;

		while (ndigits < 10 && y >= pow10_int64(ndigits))
			ndigits++;
		typemap_append_digits(buf, y, ndigits);
	}
	appendStringInfoChar(buf, '-');
	typemap_append_digits(buf, month, 2);
	appendStringInfoChar(buf, '-');
	typemap_append_digits(buf, day, 2);
	appendStringInfoChar(buf, 'T');
	typemap_append_digits(buf, time / USECS_PER_HOUR, 2);
	appendStringInfoChar(buf, ':');
	typemap_append_digits(buf, (time / USECS_PER_MINUTE) % 60, 2);
	appendStringInfoChar(buf, ':');
	typemap_append_digits(buf, (time / USECS_PER_SEC) % 60, 2);
	if (digits > 0)
	{
		appendStringInfoChar(buf, '.');
		typemap_append_digits(buf, (time % USECS_PER_SEC) /
							  pow10_int64(MAX_TIMESTAMP_PRECISION - digits), digits);
	}
	appendStringInfoString(buf, "Z\"");
}

/*
 * io.debezium.time.MicroDuration, computed exactly as Debezium does from
 * pgjdbc's PGInterval fields: in double precision, months as 365.25/12
 * days, truncated to a long.  The volatile steps keep the compiler from
 * fusing multiply-adds, which would change the rounding.
 */
static int64
typemap_interval_micros(const Interval *iv)
{
	int64		time = iv->time;
	int64		hours = time / USECS_PER_HOUR;
	int64		minutes;
	volatile double seconds;
	volatile double days;
	volatile double x;

	time -= hours * USECS_PER_HOUR;
	minutes = time / USECS_PER_MINUTE;
	time -= minutes * USECS_PER_MINUTE;
	seconds = (double) time / 1000000.0;

	days = (double) iv->month * TYPEMAP_DAYS_PER_MONTH_AVG;
	days = days + (double) iv->day;
	x = days * 24;
	x = x + (double) hours;
	x = x * 60;
	x = x + (double) minutes;
	x = x * 60;
	x = x + seconds;
	x = x * 1e6;

	/* Java's (long) cast: truncation, saturating, NaN -> 0 */
	if (isnan(x))
		return 0;
	if (x >= 9223372036854775807.0)
		return PG_INT64_MAX;
	if (x <= -9223372036854775808.0)
		return PG_INT64_MIN;
	return (int64) x;
}

static void
typemap_append_uuid(StringInfo buf, const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	char	   *p;
	int			i;

	enlargeStringInfo(buf, 38);
	p = buf->data + buf->len;
	*p++ = '"';
	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[uuid->data[i] >> 4];
		*p++ = hex[uuid->data[i] & 0x0f];
	}
	*p++ = '"';
	*p = '\0';
	buf->len = p - buf->data;
}

/*
 * io.debezium.data.geometry.Point: {"x","y","wkb","srid"}, wkb being the
 * 21-byte little-endian OGC WKB point Debezium builds (Point.createValue).
 */
static void
typemap_append_point(StringInfo buf, double x, double y)
{
	unsigned char wkb[21];
	uint64		bits[2];
	int			i;

	memcpy(&bits[0], &x, sizeof(double));
	memcpy(&bits[1], &y, sizeof(double));
	wkb[0] = 1;					/* little endian */
	wkb[1] = 1;					/* type 1: point, as a little-endian int32 */
	wkb[2] = wkb[3] = wkb[4] = 0;
	for (i = 0; i < 8; i++)
	{
		wkb[5 + i] = (unsigned char) (bits[0] >> (8 * i));
		wkb[13 + i] = (unsigned char) (bits[1] >> (8 * i));
	}
	appendStringInfoString(buf, "{\"x\":");
	typemap_append_java_double(buf, x, false);
	appendStringInfoString(buf, ",\"y\":");
	typemap_append_java_double(buf, y, false);
	appendStringInfoString(buf, ",\"wkb\":");
	jsonbuf_append_base64(buf, (const char *) wkb, sizeof(wkb));
	appendStringInfoString(buf, ",\"srid\":null}");
}

int32
typemap_java_hash(const char *s, int len)
{
	uint32		h = 0;
	int			i = 0;

	while (i < len)
	{
		unsigned char c = (unsigned char) s[i];
		uint32		cp;
		int			n;

		if (c < 0x80)
			cp = c, n = 1;
		else if ((c & 0xe0) == 0xc0 && i + 1 < len)
			cp = ((c & 0x1f) << 6) | (s[i + 1] & 0x3f), n = 2;
		else if ((c & 0xf0) == 0xe0 && i + 2 < len)
			cp = ((c & 0x0f) << 12) | ((s[i + 1] & 0x3f) << 6) | (s[i + 2] & 0x3f), n = 3;
		else if (i + 3 < len)
			cp = ((c & 0x07) << 18) | ((s[i + 1] & 0x3f) << 12) |
				((s[i + 2] & 0x3f) << 6) | (s[i + 3] & 0x3f), n = 4;
		else
			cp = c, n = 1;
		if (cp >= 0x10000)
		{
			h = h * 31 + (0xd800 + ((cp - 0x10000) >> 10));
			h = h * 31 + (0xdc00 + ((cp - 0x10000) & 0x3ff));
		}
		else
			h = h * 31 + cp;
		i += n;
	}
	return (int32) h;
}

uint32
typemap_java_bucket(int32 hash, int size)
{
	uint32		h = (uint32) hash;
	uint32		slots = 16;

	while (size > slots * 3 / 4)
		slots *= 2;
	return (h ^ (h >> 16)) & (slots - 1);
}

/* The length of the JSON string token at s (quotes included). */
static int
typemap_json_token(const char *s, int len)
{
	int			i = 1;

	while (i < len && s[i] != '"')
		i += (s[i] == '\\') ? 2 : 1;
	return Min(i + 1, len);
}

typedef struct TypemapHstorePair
{
	const char *key;			/* the JSON string token, quotes included */
	int			keylen;
	const char *value;			/* a JSON string token or null */
	int			valuelen;
	uint32		bucket;
	int			order;			/* position in hstore's own order */
} TypemapHstorePair;

static int
typemap_cmp_bucket(const void *a, const void *b)
{
	const TypemapHstorePair *x = a;
	const TypemapHstorePair *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->order - y->order;
}

/*
 * hstore_to_json's text ({"k": "v", "n": null}, keys in hstore's order)
 * rewritten as Debezium writes an hstore: pgjdbc parses the text into a
 * java.util.HashMap, in that order, and Jackson writes the map compactly
 * in the HashMap's iteration order: by bucket, then in insertion order.  The tokens are kept as hstore_to_json escaped
 * them, which is Jackson's escaping for all but control characters.
 */
static void
typemap_hstore_java_order(StringInfo out, const char *s, int len)
{
	TypemapHstorePair *pairs = palloc(sizeof(TypemapHstorePair) * (len / 4 + 1));
	int			n = 0;
	int			i = 0;

	while (i < len)
	{
		TypemapHstorePair *p = &pairs[n];

		while (i < len && s[i] != '"')
			i++;
		if (i >= len)
			break;
		p->key = s + i;
		p->keylen = typemap_json_token(s + i, len - i);
		i += p->keylen;
		while (i < len && (s[i] == ':' || s[i] == ' '))
			i++;
		p->value = s + i;
		p->valuelen = s[i] == '"' ? typemap_json_token(s + i, len - i) : 4;
		i += p->valuelen;

		/* the key's hash is over its unescaped text */
		if (memchr(p->key, '\\', p->keylen) == NULL)
			p->bucket = (uint32) typemap_java_hash(p->key + 1, p->keylen - 2);
		else
		{
			text	   *key;

			key = DatumGetTextPP(DirectFunctionCall2(json_array_element_text,
													 CStringGetTextDatum(psprintf("[%.*s]", p->keylen, p->key)),
													 Int32GetDatum(0)));
			p->bucket = (uint32) typemap_java_hash(VARDATA_ANY(key),
												   VARSIZE_ANY_EXHDR(key));
		}
		p->order = n;
		n++;
	}
	for (int j = 0; j < n; j++)
		pairs[j].bucket = typemap_java_bucket((int32) pairs[j].bucket, n);
	qsort(pairs, n, sizeof(TypemapHstorePair), typemap_cmp_bucket);

	appendStringInfoChar(out, '{');
	for (int j = 0; j < n; j++)
	{
		if (j > 0)
			appendStringInfoChar(out, ',');
		appendBinaryStringInfo(out, pairs[j].key, pairs[j].keylen);
		appendStringInfoChar(out, ':');
		appendBinaryStringInfo(out, pairs[j].value, pairs[j].valuelen);
	}
	appendStringInfoChar(out, '}');
	pfree(pairs);
}

/* Text output of any type, as a JSON string. */
static void
typemap_append_text_output(StringInfo buf, const CdcType *t, Datum value)
{
	Oid			fn = t->outfunc.fn_oid;

	/* text-like types: the varlena's bytes are the output, skip the copy */
	if (fn == F_TEXTOUT || fn == F_VARCHAROUT || fn == F_BPCHAROUT ||
		fn == F_JSON_OUT)
	{
		struct varlena *v = pg_detoast_datum_packed((struct varlena *)
													DatumGetPointer(value));

		jsonbuf_append_string(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
		if ((Pointer) v != DatumGetPointer(value))
			pfree(v);
	}
	else if (fn == F_NAMEOUT)
		jsonbuf_append_cstring(buf, NameStr(*DatumGetName(value)));
	else
	{
		char	   *s = OutputFunctionCall((FmgrInfo *) &t->outfunc, value);

		jsonbuf_append_cstring(buf, s);
		pfree(s);
	}
}

static void
typemap_append_enum(StringInfo buf, const CdcType *t, Datum value)
{
	Oid			oid = DatumGetObjectId(value);
	int			lo = 0;
	int			hi = t->nlabels - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (t->label_oids[mid] == oid)
		{
			appendStringInfoString(buf, t->label_json[mid]);
			return;
		}
		if (t->label_oids[mid] < oid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	/* a label added after the relation was cached: enum_out looks it up */
	typemap_append_text_output(buf, t, value);
}

static void
typemap_append_array(StringInfo buf, const CdcType *t, Datum value)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	ArrayMetaState meta;
	ArrayIterator it;
	Datum		elem;
	bool		isnull;
	bool		first = true;

	/* element storage from the cache, so the iterator skips the syscache */
	meta.element_type = ARR_ELEMTYPE(arr);
	meta.typlen = t->elem->typlen;
	meta.typbyval = t->elem->typbyval;
	meta.typalign = t->elem->typalign;

	appendStringInfoChar(buf, '[');
	it = array_create_iterator(arr, 0, &meta);
	while (array_iterate(it, &elem, &isnull))
	{
		if (!first)
			appendStringInfoChar(buf, ',');
		first = false;
		if (isnull)
			appendStringInfoString(buf, "null");
		else
			typemap_append_value(buf, t->elem, elem);
	}
	array_free_iterator(it);
	appendStringInfoChar(buf, ']');
}

/* ----------------------------------------------------------------
 * Values
 * ----------------------------------------------------------------
 */

void
typemap_append_value(StringInfo buf, const CdcType *t, Datum value)
{
	switch (t->kind)
	{
		case CDC_TYPE_BOOL:
			if (DatumGetBool(value))
				appendStringInfoString(buf, "true");
			else
				appendStringInfoString(buf, "false");
			break;
		case CDC_TYPE_INT16:
			typemap_append_int32(buf, DatumGetInt16(value));
			break;
		case CDC_TYPE_INT32:
			typemap_append_int32(buf, DatumGetInt32(value));
			break;
		case CDC_TYPE_INT64:
			if (t->typid == OIDOID)
				typemap_append_int64(buf, (int64) DatumGetObjectId(value));
			else
				typemap_append_int64(buf, DatumGetInt64(value));
			break;
		case CDC_TYPE_FLOAT4:
			typemap_append_java_double(buf, DatumGetFloat4(value), true);
			break;
		case CDC_TYPE_FLOAT8:
			typemap_append_java_double(buf, DatumGetFloat8(value), false);
			break;
		case CDC_TYPE_NUMERIC:
			typemap_append_numeric(buf, t, value);
			break;
		case CDC_TYPE_MONEY:
			typemap_append_money(buf, t, DatumGetCash(value));
			break;
		case CDC_TYPE_BYTEA:
			{
				struct varlena *v = pg_detoast_datum_packed((struct varlena *)
															DatumGetPointer(value));

				jsonbuf_append_base64(buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
				if ((Pointer) v != DatumGetPointer(value))
					pfree(v);
			}
			break;
		case CDC_TYPE_BITS:
			typemap_append_bits(buf, t, value);
			break;
		case CDC_TYPE_DATE:
			{
				DateADT		d = DatumGetDateADT(value);

				/*
				 * +-infinity: PostgreSQL's own sentinels (INT32 max/min);
				 * Debezium's LocalDate constants for them are broken.
				 */
				if (DATE_NOT_FINITE(d))
					typemap_append_int32(buf, d);
				else
					typemap_append_int32(buf, d + (POSTGRES_EPOCH_JDATE -
												   UNIX_EPOCH_JDATE));
			}
			break;
		case CDC_TYPE_TIME:
			if (t->typmod >= 0 && t->typmod <= 3)
				typemap_append_int32(buf,
									 (int32) (DatumGetTimeADT(value) / 1000));
			else
				typemap_append_int64(buf, DatumGetTimeADT(value));
			break;
		case CDC_TYPE_TIMETZ:
			{
				/* io.debezium.time.ZonedTime: ISO_OFFSET_TIME in UTC */
				TimeTzADT  *tz = DatumGetTimeTzADTP(value);
				int64		us = tz->time + (int64) tz->zone * USECS_PER_SEC;

				us %= USECS_PER_DAY;
				if (us < 0)
					us += USECS_PER_DAY;
				appendStringInfoChar(buf, '"');
				typemap_append_time_of_day(buf, us);
				appendStringInfoString(buf, "Z\"");
			}
			break;
		case CDC_TYPE_TIMESTAMP:
			{
				Timestamp	ts = DatumGetTimestamp(value);
				int64		us;
				bool		millis = t->typmod >= 0 && t->typmod <= 3;

				if (TIMESTAMP_IS_NOEND(ts))
					us = TYPEMAP_TS_POS_INFINITY;
				else if (TIMESTAMP_IS_NOBEGIN(ts))
					us = TYPEMAP_TS_NEG_INFINITY;
				else if (millis)
				{
					/* in milliseconds the whole range fits: no overflow */
					typemap_append_int64(buf, ts / 1000 - ((ts % 1000) < 0 ? 1 : 0) +
										 TYPEMAP_EPOCH_SHIFT_US / 1000);
					break;
				}
				else if (pg_add_s64_overflow(ts, TYPEMAP_EPOCH_SHIFT_US, &us))
					us = PG_INT64_MAX;	/* beyond year 294247 */
				if (millis)
					us = us / 1000 - ((us % 1000) < 0 ? 1 : 0);
				typemap_append_int64(buf, us);
			}
			break;
		case CDC_TYPE_TIMESTAMPTZ:
			typemap_append_timestamptz(buf, DatumGetTimestampTz(value),
									   typemap_tstz_digits(t));
			break;
		case CDC_TYPE_INTERVAL:
			typemap_append_int64(buf,
								 typemap_interval_micros(DatumGetIntervalP(value)));
			break;
		case CDC_TYPE_UUID:
			typemap_append_uuid(buf, DatumGetUUIDP(value));
			break;
		case CDC_TYPE_ENUM:
			typemap_append_enum(buf, t, value);
			break;
		case CDC_TYPE_ARRAY:
			typemap_append_array(buf, t, value);
			break;
		case CDC_TYPE_POINT:
			{
				Point	   *pt = DatumGetPointP(value);

				typemap_append_point(buf, pt->x, pt->y);
			}
			break;
		case CDC_TYPE_JSON:
			if (t->typid != JSONOID)
			{
				/* hstore: outfunc is hstore_to_json */
				text	   *json = DatumGetTextPP(FunctionCall1((FmgrInfo *) &t->outfunc,
																value));
				StringInfoData map;

				initStringInfo(&map);
				typemap_hstore_java_order(&map, VARDATA_ANY(json),
										  VARSIZE_ANY_EXHDR(json));
				jsonbuf_append_string(buf, map.data, map.len);
				pfree(map.data);
				break;
			}
			typemap_append_text_output(buf, t, value);
			break;
		case CDC_TYPE_JSONB:
		case CDC_TYPE_XML:
		case CDC_TYPE_TEXT:
			typemap_append_text_output(buf, t, value);
			break;
	}
}

bool
typemap_is_string(const CdcType *t)
{
	switch (t->kind)
	{
		case CDC_TYPE_TEXT:
		case CDC_TYPE_JSON:
		case CDC_TYPE_JSONB:
		case CDC_TYPE_XML:
		case CDC_TYPE_ENUM:
		case CDC_TYPE_UUID:
		case CDC_TYPE_TIMETZ:
		case CDC_TYPE_TIMESTAMPTZ:
			return true;
		case CDC_TYPE_NUMERIC:
		case CDC_TYPE_MONEY:
			return t->decimal_handling == CDC_DECIMAL_STRING;
		default:
			return false;
	}
}

/*
 * UnchangedToastedPlaceholder: the placeholder string for string columns,
 * its bytes for binary ones, ["placeholder"] for text/varchar/json(b)
 * arrays, the placeholder's byte values for int4/int8/date arrays.  Debezium
 * has no usable value for the other types (its converters fail or fall back
 * to null); we emit null.
 */
void
typemap_append_unavailable(StringInfo buf, const CdcType *t)
{
	static const char placeholder[] = CDC_UNAVAILABLE_VALUE;

	/* hstore as JSON: Debezium's map of the placeholder to itself */
	if (t->kind == CDC_TYPE_JSON && t->typid != JSONOID)
		appendStringInfoString(buf, "\"{\\\"" CDC_UNAVAILABLE_VALUE "\\\":\\\""
							   CDC_UNAVAILABLE_VALUE "\\\"}\"");
	else if (typemap_is_string(t))
		jsonbuf_append_string(buf, placeholder, sizeof(placeholder) - 1);
	else if (t->kind == CDC_TYPE_BYTEA ||
			 (t->kind == CDC_TYPE_BITS && t->typmod != 1))
		jsonbuf_append_base64(buf, placeholder, sizeof(placeholder) - 1);
	else if (t->kind == CDC_TYPE_ARRAY && typemap_is_string(t->elem))
	{
		appendStringInfoChar(buf, '[');
		jsonbuf_append_string(buf, placeholder, sizeof(placeholder) - 1);
		appendStringInfoChar(buf, ']');
	}
	else if (t->kind == CDC_TYPE_ARRAY &&
			 (t->elem->kind == CDC_TYPE_INT32 ||
			  t->elem->kind == CDC_TYPE_INT64 ||
			  t->elem->kind == CDC_TYPE_DATE))
	{
		int			i;

		appendStringInfoChar(buf, '[');
		for (i = 0; i < (int) sizeof(placeholder) - 1; i++)
		{
			if (i > 0)
				appendStringInfoChar(buf, ',');
			typemap_append_int32(buf, (signed char) placeholder[i]);
		}
		appendStringInfoChar(buf, ']');
	}
	else
		appendStringInfoString(buf, "null");
}

/*
 * The fallback of Debezium's convertValue() for a NOT NULL column without
 * a value: zero of the type, "" for strings, empty bytes and arrays, the
 * epoch for zoned times.
 */
void
typemap_append_fallback(StringInfo buf, const CdcType *t)
{
	switch (t->kind)
	{
		case CDC_TYPE_BOOL:
			appendStringInfoString(buf, "false");
			break;
		case CDC_TYPE_INT16:
		case CDC_TYPE_INT32:
		case CDC_TYPE_INT64:
		case CDC_TYPE_DATE:
		case CDC_TYPE_TIME:
		case CDC_TYPE_TIMESTAMP:
		case CDC_TYPE_INTERVAL:
			appendStringInfoChar(buf, '0');
			break;
		case CDC_TYPE_FLOAT4:
		case CDC_TYPE_FLOAT8:
			appendStringInfoString(buf, "0.0");
			break;
		case CDC_TYPE_NUMERIC:
		case CDC_TYPE_MONEY:
			if (t->decimal_handling == CDC_DECIMAL_DOUBLE)
				appendStringInfoString(buf, "0.0");
			else if (t->kind == CDC_TYPE_MONEY)
				appendStringInfoString(buf,
									   t->decimal_handling == CDC_DECIMAL_STRING ?
									   "\"0.00\"" : "\"AA==\"");
			else if (t->decimal_handling == CDC_DECIMAL_STRING)
			{
				TypemapDecimal d;

				d.neg = false;
				d.digits = "0";
				d.nd = 1;
				d.scale = t->typmod >= (int32) VARHDRSZ ?
					numeric_typmod_scale(t->typmod) : 0;
				if (d.scale < 0)
					d.scale = 0;
				typemap_append_bigdecimal_string(buf, &d);
			}
			else if (t->typmod >= (int32) VARHDRSZ)
				appendStringInfoString(buf, "\"AA==\"");
			else
				appendStringInfoString(buf, "{\"scale\":0,\"value\":\"AA==\"}");
			break;
		case CDC_TYPE_BITS:
			if (t->typmod == 1)
				appendStringInfoString(buf, "false");
			else
				appendStringInfoString(buf, "\"\"");
			break;
		case CDC_TYPE_TIMETZ:
			appendStringInfoString(buf, "\"00:00:00Z\"");
			break;
		case CDC_TYPE_TIMESTAMPTZ:
			typemap_append_timestamptz(buf, -TYPEMAP_EPOCH_SHIFT_US,
									   typemap_tstz_digits(t));
			break;
		case CDC_TYPE_ARRAY:
			appendStringInfoString(buf, "[]");
			break;
		case CDC_TYPE_POINT:
			typemap_append_point(buf, 0.0, 0.0);
			break;
		case CDC_TYPE_JSON:
			/* hstore's fallback is an empty map (convertHstoreToJsonString) */
			if (t->typid != JSONOID)
				appendStringInfoString(buf, "\"{}\"");
			else
				appendStringInfoString(buf, "\"\"");
			break;
		case CDC_TYPE_BYTEA:
		case CDC_TYPE_UUID:
		case CDC_TYPE_JSONB:
		case CDC_TYPE_XML:
		case CDC_TYPE_ENUM:
		case CDC_TYPE_TEXT:
			appendStringInfoString(buf, "\"\"");
			break;
	}
}
