Console.WriteLine("UintrIpc bench: not written yet.");
