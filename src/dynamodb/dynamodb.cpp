// Placeholder: filled in by the module's owner.
namespace ddb2s3 {}
