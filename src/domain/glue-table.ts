/**
 * A dataset as an AWS Glue table: the `TableInput` of CreateTable/UpdateTable (StorageDescriptor, SerDe,
 * partition keys) that Athena, Spark and Hive read, and the `PartitionInput` of a written partition. Pure.
 */
import type { Dataset, DatasetFormat } from './dataset.js';

export interface GlueColumn {
  readonly Name: string;
  readonly Type: string;
  readonly Comment?: string;
}

export interface GlueStorageDescriptor {
  readonly Columns: GlueColumn[];
  readonly Location: string;
  readonly InputFormat: string;
  readonly OutputFormat: string;
  readonly Compressed: boolean;
  readonly NumberOfBuckets: number;
  readonly SerdeInfo: { readonly SerializationLibrary: string; readonly Parameters: Record<string, string> };
  readonly StoredAsSubDirectories: boolean;
  readonly Parameters: Record<string, string>;
}

export interface GlueTableInput {
  readonly Name: string;
  readonly Description?: string;
  readonly Owner: string;
  readonly TableType: 'EXTERNAL_TABLE';
  readonly Parameters: Record<string, string>;
  readonly PartitionKeys: GlueColumn[];
  readonly StorageDescriptor: GlueStorageDescriptor;
}

export interface GluePartitionInput {
  readonly Values: string[];
  readonly StorageDescriptor: GlueStorageDescriptor;
  readonly Parameters: Record<string, string>;
}

interface FormatSpec {
  readonly classification: string;
  readonly inputFormat: string;
  readonly outputFormat: string;
  readonly serde: string;
  readonly serdeParameters: Record<string, string>;
  readonly tableParameters: Record<string, string>;
}

const TEXT_INPUT = 'org.apache.hadoop.mapred.TextInputFormat';
const TEXT_OUTPUT = 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat';

/** What the Glue crawler writes for each format, so that Athena, EMR and Glue jobs read the table as-is. */
const FORMATS: Record<DatasetFormat, FormatSpec> = {
  parquet: {
    classification: 'parquet',
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
    serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    serdeParameters: { 'serialization.format': '1' },
    tableParameters: {},
  },
  csv: {
    classification: 'csv',
    inputFormat: TEXT_INPUT,
    outputFormat: TEXT_OUTPUT,
    // LazySimpleSerDe parses typed columns (ISO dates, timestamps, numbers), as the crawler writes for plain
    // CSV; OpenCSVSerde would read quoted fields but only UNIX-epoch dates. Quoted fields keep their quotes.
    serde: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
    serdeParameters: { 'field.delim': ',', 'serialization.format': ',' },
    tableParameters: { 'skip.header.line.count': '1' },
  },
  jsonl: {
    classification: 'json',
    inputFormat: TEXT_INPUT,
    outputFormat: TEXT_OUTPUT,
    serde: 'org.openx.data.jsonserde.JsonSerDe',
    serdeParameters: { paths: '' },
    tableParameters: {},
  },
};

/** The Glue table name of a dataset: `<project>_<dataset>` (Glue names are lower case). */
export function glueTableName(dataset: Pick<Dataset, 'project' | 'name'>): string {
  return `${dataset.project}_${dataset.name}`;
}

function storageDescriptor(dataset: Dataset, location: string): GlueStorageDescriptor {
  const f = FORMATS[dataset.format];
  const serdeParameters =
    dataset.format === 'jsonl' ? { paths: dataset.columns.map((c) => c.name).join(',') } : { ...f.serdeParameters };
  return {
    Columns: dataset.columns.map((c) => ({ Name: c.name, Type: c.type })),
    Location: location,
    InputFormat: f.inputFormat,
    OutputFormat: f.outputFormat,
    Compressed: false,
    NumberOfBuckets: -1,
    SerdeInfo: { SerializationLibrary: f.serde, Parameters: serdeParameters },
    StoredAsSubDirectories: false,
    Parameters: { classification: f.classification, ...f.tableParameters },
  };
}

/**
 * The Glue TableInput of a dataset.
 * @param locationUri the dataset's full location, `s3://bucket/path/project/dataset/`.
 */
export function glueTableInput(dataset: Dataset, locationUri: string): GlueTableInput {
  const f = FORMATS[dataset.format];
  return {
    Name: glueTableName(dataset),
    ...(dataset.description === '' ? {} : { Description: dataset.description }),
    Owner: dataset.owner,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: f.classification,
      ...f.tableParameters,
      'rolegate.dataset': `${dataset.project}.${dataset.name}`,
      'rolegate.manifest_version': String(dataset.manifest.version),
    },
    PartitionKeys: dataset.partitionColumns.map((name) => ({ Name: name, Type: 'string' })),
    StorageDescriptor: storageDescriptor(dataset, locationUri),
  };
}

/** The Glue PartitionInput of one written partition (its location is `<table location>a=1/b=2/`). */
export function gluePartitionInput(
  dataset: Dataset,
  locationUri: string,
  values: Readonly<Record<string, string>>,
): GluePartitionInput {
  const path = dataset.partitionColumns.map((c) => `${c}=${values[c]}/`).join('');
  return {
    Values: dataset.partitionColumns.map((c) => values[c] as string),
    StorageDescriptor: storageDescriptor(dataset, `${locationUri}${path}`),
    Parameters: {},
  };
}
