using MIC.Streaming.Hosting;

// One MIC silo: joins the cluster (Silo:Clustering), consumes clicks (Kafka:*), serves candidates
// on the HTTP API. Every setting is validated at start-up; see appsettings.json and the README.
var builder = WebApplication.CreateBuilder(args);
builder.AddMicSilo();
var app = builder.Build();
app.MapMicApi();
app.Run();
