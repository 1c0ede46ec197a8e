/** Typed kubelet errors. */

/** Thrown for an invalid option; the message names the flag. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Thrown when an image is not present and cannot be pulled; `message` is the runtime's own message. */
export class ImagePullError extends Error {
  constructor(
    readonly image: string,
    message: string,
    /** true when the pull policy forbids pulling (Never) and the image is missing. */
    readonly neverPull = false,
  ) {
    super(message);
    this.name = 'ImagePullError';
  }
}

/** Thrown when a container cannot be created or started (bad command, bad mount…): reason CreateContainerError / RunContainerError. */
export class ContainerStartError extends Error {
  constructor(
    readonly reason: 'CreateContainerError' | 'RunContainerError' | 'CreateContainerConfigError',
    message: string,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/** Thrown when a pod's container cannot be found on this node (logs/exec). */
export class ContainerNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerNotFoundError';
  }
}
