package schemas

import "embed"

// FS holds the contract's documents, by file name: ReviewSchemaFile,
// LabeledSchemaFile, DeadLetterSchemaFile and OpenAPIFile.
//
//go:embed review.v1.json labeled.v1.json deadletter.v1.json openapi.yaml
var FS embed.FS

// The contract's file names in FS.
const (
	ReviewSchemaFile     = "review.v1.json"
	LabeledSchemaFile    = "labeled.v1.json"
	DeadLetterSchemaFile = "deadletter.v1.json"
	OpenAPIFile          = "openapi.yaml"
)

// BaseURI is where the contract's documents are published; each schema's
// $id is BaseURI followed by its file name, and the schemas refer to one
// another by relative reference, so a copy of the folder works offline.
const BaseURI = "https://raw.githubusercontent.com/capastan/capastan/main/schemas/"

// The schemas' $id values.
const (
	ReviewSchemaID     = BaseURI + ReviewSchemaFile
	LabeledSchemaID    = BaseURI + LabeledSchemaFile
	DeadLetterSchemaID = BaseURI + DeadLetterSchemaFile
)

// SchemaVersion is the schema_version this package reads and writes.
const SchemaVersion = 1
