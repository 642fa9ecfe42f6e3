package rivet.readers;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.IntLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.ListLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Type;

/**
 * Reads each Parquet file named on the command line (or, with none, one path per line on
 * standard input) with parquet-java's own page decoders and record assembly, and prints one
 * JSON line per file: {"file", "columns": [{"name", "type"}], "rows": [[value, ...], ...], "rowGroups"},
 * or {"file", "error"} when parquet-java refuses the file.
 *
 * Values are printed in the shape rivet's tests compare across readers, derived from each
 * column's Parquet logical type: integers, decimals, dates (epoch days), times (nanoseconds
 * since midnight) and timestamps (epoch nanoseconds) as exact decimal text; floating point
 * as the 16 hex digits of the IEEE double ("NaN" for any NaN); text as text; other bytes
 * (UUID included) as lowercase hex; lists as arrays; booleans and nulls as JSON's own.
 */
public final class ParquetJsonLines {
  private ParquetJsonLines() {}

  public static void main(String[] args) throws IOException {
    PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    List<String> files = new ArrayList<>(List.of(args));
    if (files.isEmpty()) {
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) if (!line.isBlank()) files.add(line.strip());
    }
    for (String file : files) {
      StringBuilder sb = new StringBuilder();
      try {
        readFile(file, sb);
      } catch (Exception | LinkageError e) {
        sb.setLength(0);
        sb.append("{\"file\":");
        str(sb, file);
        sb.append(",\"error\":");
        str(sb, e.getClass().getSimpleName() + ": " + e.getMessage());
        sb.append('}');
      }
      out.println(sb);
    }
    out.flush();
  }

  private static void readFile(String file, StringBuilder sb) throws IOException {
    ParquetReadOptions options = ParquetReadOptions.builder(new PlainParquetConfiguration()).build();
    try (ParquetFileReader reader = new ParquetFileReader(new LocalInputFile(Path.of(file)), options)) {
      MessageType schema = reader.getFooter().getFileMetaData().getSchema();
      sb.append("{\"file\":");
      str(sb, file);
      sb.append(",\"columns\":[");
      for (int i = 0; i < schema.getFieldCount(); i++) {
        if (i > 0) sb.append(',');
        Type t = schema.getType(i);
        sb.append("{\"name\":");
        str(sb, t.getName());
        sb.append(",\"type\":");
        str(sb, describe(t));
        sb.append('}');
      }
      sb.append("],\"rows\":[");
      MessageColumnIO io = new ColumnIOFactory().getColumnIO(schema);
      boolean first = true;
      int rowGroups = 0;
      PageReadStore pages;
      while ((pages = reader.readNextRowGroup()) != null) {
        rowGroups++;
        RecordReader<Group> records = io.getRecordReader(pages, new GroupRecordConverter(schema));
        for (long r = 0; r < pages.getRowCount(); r++) {
          if (!first) sb.append(',');
          first = false;
          row(records.read(), schema, sb);
        }
      }
      sb.append("],\"rowGroups\":").append(rowGroups).append('}');
    }
  }

  private static String describe(Type t) {
    LogicalTypeAnnotation a = t.getLogicalTypeAnnotation();
    String base = t.isPrimitive() ? t.asPrimitiveType().getPrimitiveTypeName().name() : "GROUP";
    return a == null ? base : base + " " + a;
  }

  private static void row(Group g, GroupType type, StringBuilder sb) {
    sb.append('[');
    for (int i = 0; i < type.getFieldCount(); i++) {
      if (i > 0) sb.append(',');
      field(g, i, type.getType(i), sb);
    }
    sb.append(']');
  }

  private static void field(Group g, int i, Type t, StringBuilder sb) {
    if (g.getFieldRepetitionCount(i) == 0) {
      sb.append("null");
      return;
    }
    if (t.isPrimitive()) {
      value(g, i, t.asPrimitiveType(), sb);
      return;
    }
    if (!(t.getLogicalTypeAnnotation() instanceof ListLogicalTypeAnnotation)) {
      throw new IllegalStateException("unexpected group column " + t);
    }
    // LIST: optional group (LIST) { repeated group <list> { optional <element> } }
    Group list = g.getGroup(i, 0);
    GroupType repeated = t.asGroupType().getType(0).asGroupType();
    Type element = repeated.getType(0);
    int n = list.getFieldRepetitionCount(0);
    sb.append('[');
    for (int k = 0; k < n; k++) {
      if (k > 0) sb.append(',');
      field(list.getGroup(0, k), 0, element, sb);
    }
    sb.append(']');
  }

  private static void value(Group g, int i, PrimitiveType t, StringBuilder sb) {
    LogicalTypeAnnotation a = t.getLogicalTypeAnnotation();
    switch (t.getPrimitiveTypeName()) {
      case BOOLEAN -> sb.append(g.getBoolean(i, 0));
      case INT32 -> {
        int v = g.getInteger(i, 0);
        if (a instanceof DecimalLogicalTypeAnnotation d) str(sb, new BigDecimal(BigInteger.valueOf(v), d.getScale()).toPlainString());
        else if (a instanceof TimeLogicalTypeAnnotation tm) str(sb, toNanos(BigInteger.valueOf(v), tm.getUnit()).toString());
        else if (a instanceof IntLogicalTypeAnnotation in && !in.isSigned()) str(sb, Integer.toUnsignedString(v));
        else str(sb, Integer.toString(v));
      }
      case INT64 -> {
        long v = g.getLong(i, 0);
        if (a instanceof DecimalLogicalTypeAnnotation d) str(sb, new BigDecimal(BigInteger.valueOf(v), d.getScale()).toPlainString());
        else if (a instanceof TimestampLogicalTypeAnnotation ts) str(sb, toNanos(BigInteger.valueOf(v), ts.getUnit()).toString());
        else if (a instanceof TimeLogicalTypeAnnotation tm) str(sb, toNanos(BigInteger.valueOf(v), tm.getUnit()).toString());
        else if (a instanceof IntLogicalTypeAnnotation in && !in.isSigned()) str(sb, Long.toUnsignedString(v));
        else str(sb, Long.toString(v));
      }
      case FLOAT -> floating(sb, g.getFloat(i, 0));
      case DOUBLE -> floating(sb, g.getDouble(i, 0));
      case BINARY -> bytes(g.getBinary(i, 0), a, sb);
      case FIXED_LEN_BYTE_ARRAY -> bytes(g.getBinary(i, 0), a, sb);
      default -> throw new IllegalStateException("unexpected physical type " + t);
    }
  }

  private static void bytes(Binary b, LogicalTypeAnnotation a, StringBuilder sb) {
    {
      {
        if (a instanceof DecimalLogicalTypeAnnotation d) {
          str(sb, new BigDecimal(new BigInteger(b.getBytes()), d.getScale()).toPlainString());
        } else if (a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
            || a instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation
            || a instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation) {
          str(sb, b.toStringUsingUTF8());
        } else {
          str(sb, hex(b.getBytes()));
        }
      }
    }
  }

  private static BigInteger toNanos(BigInteger v, TimeUnit unit) {
    return switch (unit) {
      case MILLIS -> v.multiply(BigInteger.valueOf(1_000_000));
      case MICROS -> v.multiply(BigInteger.valueOf(1_000));
      case NANOS -> v;
    };
  }

  private static void floating(StringBuilder sb, double d) {
    str(sb, Double.isNaN(d) ? "NaN" : String.format("%016x", Double.doubleToRawLongBits(d)));
  }

  private static String hex(byte[] bytes) {
    StringBuilder h = new StringBuilder(bytes.length * 2);
    for (byte x : bytes) h.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
    return h.toString();
  }

  private static void str(StringBuilder sb, String s) {
    sb.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
          else sb.append(c);
        }
      }
    }
    sb.append('"');
  }
}
