CREATE TABLE "processor_state" (
	"processor" text NOT NULL,
	"key" text NOT NULL,
	"value" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "processor_state_processor_key_pk" PRIMARY KEY("processor","key")
);
