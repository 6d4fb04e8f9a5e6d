using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MIC.Streaming.Hosting;

/// <summary>Binds an options section and validates it at start-up with messages that name the key to fix.</summary>
public static class OptionsValidation
{
    public static IServiceCollection AddValidatedOptions<T>(this IServiceCollection services, IConfiguration configuration, string section, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new MessagesValidator<T>(validate));
        return services;
    }

    /// <summary>Reads and validates a section now (for settings the host is built from); throws naming every bad key.</summary>
    public static T ReadValidated<T>(IConfiguration configuration, string section, Func<T, IEnumerable<string>> validate)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(validate);
        var value = configuration.GetSection(section).Get<T>() ?? new T();
        var errors = validate(value).ToList();
        return errors.Count > 0 ? throw new OptionsValidationException(section, typeof(T), errors) : value;
    }

    private sealed class MessagesValidator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = validate(options).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
